# Builds the `nongzi` binary and runs it on a slim Debian image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin nongzi

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/nongzi --create-home nongzi
COPY --from=build /src/target/release/nongzi /usr/local/bin/nongzi
USER nongzi
WORKDIR /var/lib/nongzi
ENV NONGZI_BIND=0.0.0.0:8080 NONGZI_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["nongzi"]
CMD ["serve"]
