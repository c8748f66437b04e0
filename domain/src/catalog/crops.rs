//! Crop codes shared by seed specs, pesticide uses and the advisor. The crops the advisor
//! can plan come from its table (advisor/data/crops.toml); the catalog adds only the crops
//! it lists that the advisor has no uptake data for.

use std::sync::LazyLock;

/// (code, zh, en, horticultural: vegetables, fruit, tea, fungi or herbs, for which highly
/// toxic pesticides are never allowed: RULES.md rule 9).
pub type Crop = (&'static str, &'static str, &'static str, bool);

/// Crops of the catalog (pesticide uses, seeds) that the advisor has no uptake data for,
/// so no fertiliser plan: they are not in advisor/data/crops.toml.
const CATALOG_ONLY: &[Crop] = &[
    ("CITRUS", "柑橘", "citrus", true),
    ("TEA", "茶", "tea", true),
];

/// Every crop: the advisor's, in its order, then the catalog's own.
pub static CROPS: LazyLock<Vec<Crop>> = LazyLock::new(|| {
    advisor::data::tables()
        .crops
        .iter()
        .map(|c| {
            (
                c.code.as_str(),
                c.zh.as_str(),
                c.name_en.as_str(),
                c.horticultural,
            )
        })
        .chain(CATALOG_ONLY.iter().copied())
        .collect()
});

pub fn find(code: &str) -> Option<&'static Crop> {
    CROPS.iter().find(|c| c.0 == code)
}

/// Resolves a code, or a zh/en crop name, to its code. The advisor's key ("winter_wheat")
/// and its English name with the yield basis ("peanut (pods)") resolve too.
pub fn resolve(s: &str) -> Option<&'static str> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    CROPS
        .iter()
        .find(|c| c.0.eq_ignore_ascii_case(t) || c.1 == t || c.2.eq_ignore_ascii_case(t))
        .map(|c| c.0)
        .or_else(|| {
            advisor::data::tables()
                .crops
                .iter()
                .find(|c| c.key.eq_ignore_ascii_case(t) || c.en.eq_ignore_ascii_case(t))
                .map(|c| c.code.as_str())
        })
}

/// The advisor's key for a catalog crop code, when the advisor can plan it.
pub fn advisor_key(code: &str) -> Option<&'static str> {
    advisor::data::tables()
        .crop_by_code(code)
        .map(|c| c.key.as_str())
}

#[cfg(test)]
mod tests {
    use crate::catalog::crops;

    #[test]
    fn every_advisor_crop_resolves_by_code_and_by_name() {
        let advisor_crops = &advisor::data::tables().crops;
        assert!(!advisor_crops.is_empty());
        for c in advisor_crops {
            // the advisor's key, its Chinese name and its English name all name one crop...
            let code = crops::resolve(&c.key)
                .unwrap_or_else(|| panic!("advisor crop key {} does not resolve", c.key));
            for name in [c.zh.as_str(), c.en.as_str(), &c.en.to_uppercase()] {
                assert_eq!(crops::resolve(name), Some(code), "{name}");
            }
            // ... whose catalog code resolves to itself, is listed, and maps back to the advisor
            assert_eq!(crops::resolve(code), Some(code));
            assert_eq!(crops::resolve(&code.to_lowercase()), Some(code));
            let listed = crops::find(code).unwrap_or_else(|| panic!("{code} is not listed"));
            assert_eq!(listed.1, c.zh);
            assert_eq!(crops::advisor_key(code), Some(c.key.as_str()));
            assert_eq!(crops::resolve(&format!("  {}  ", listed.2)), Some(code));
        }
        // every listed crop resolves by code and by both names, and appears once
        for c in crops::CROPS.iter() {
            assert_eq!(crops::resolve(c.0), Some(c.0));
            assert_eq!(crops::resolve(c.1), Some(c.0));
            assert_eq!(crops::resolve(c.2), Some(c.0));
            assert_eq!(crops::CROPS.iter().filter(|d| d.0 == c.0).count(), 1);
        }
        // the catalog's own crops, which the advisor cannot plan, stay listed
        for code in ["CITRUS", "TEA"] {
            assert!(crops::find(code).is_some_and(|c| c.3), "{code}");
            assert_eq!(crops::advisor_key(code), None);
        }
        assert_eq!(crops::resolve("香蕉树"), None);
        assert_eq!(crops::resolve(""), None);
    }
}
