//! `GET /graphql` in a browser: a small GraphQL console compiled into the binary, so it works
//! with no internet (GraphiQL loads its scripts from a CDN). Write a query, optional variables
//! and an access token; the answer is shown as JSON. The schema is at `api/schema.graphql`.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Nongzi 农资 GraphQL console</title>
<style>
body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1b1b1b;background:#f6f5ef}
header{background:#1f6f3f;color:#fff;padding:10px 14px}h1{font-size:1.1rem;margin:0}
main{display:grid;grid-template-columns:1fr 1fr;gap:12px;padding:12px}@media(max-width:800px){main{grid-template-columns:1fr}}
label{display:block;font-weight:600;margin:.4em 0 .2em}textarea,input{width:100%;box-sizing:border-box;font:14px/1.4 ui-monospace,monospace;padding:8px;border:1px solid #8a8a8a;border-radius:6px;background:#fff}
textarea#q{height:18rem}textarea#v{height:5rem}pre{background:#fff;border:1px solid #ccc;border-radius:6px;padding:10px;min-height:24rem;overflow:auto;white-space:pre-wrap;margin:0}
button{font:inherit;font-weight:600;padding:10px 18px;border:0;border-radius:8px;background:#1f6f3f;color:#fff;margin-top:8px;cursor:pointer}
</style></head><body>
<header><h1>Nongzi 农资 · GraphQL</h1></header>
<main>
<section aria-label="Request">
<label for="q">Query</label>
<textarea id="q" spellcheck="false">{
  products(first: 5, filter: { text: "尿素" }) {
    totalCount
    edges { node { name registrationNo skus { label offers { price dealer { name } } } } }
  }
}</textarea>
<label for="v">Variables (JSON)</label><textarea id="v" spellcheck="false">{}</textarea>
<label for="tok">Access token (from the <code>login</code> mutation; optional)</label><input id="tok" autocomplete="off">
<label for="lang">Accept-Language</label><input id="lang" value="zh-CN">
<button id="run" type="button">Run (Ctrl+Enter)</button>
</section>
<section aria-label="Response"><label for="out">Response</label><pre id="out" tabindex="0"></pre></section>
</main>
<script>
(function(){
var $=function(i){return document.getElementById(i)};
function run(){
  var vars={};try{vars=JSON.parse($('v').value||'{}')}catch(e){$('out').textContent='Variables are not JSON: '+e.message;return}
  var h={'Content-Type':'application/json','Accept-Language':$('lang').value||'zh-CN'};
  if($('tok').value.trim())h.Authorization='Bearer '+$('tok').value.trim();
  $('out').textContent='…';
  fetch('/graphql',{method:'POST',headers:h,body:JSON.stringify({query:$('q').value,variables:vars})})
   .then(function(r){return r.text().then(function(t){try{t=JSON.stringify(JSON.parse(t),null,2)}catch(e){}$('out').textContent='HTTP '+r.status+'\n'+t})})
   .catch(function(e){$('out').textContent='No answer: '+e})}
$('run').onclick=run;
document.addEventListener('keydown',function(e){if(e.key==='Enter'&&(e.ctrlKey||e.metaKey))run()});
try{var s=localStorage.getItem('nz-console');if(s){s=JSON.parse(s);$('q').value=s.q;$('v').value=s.v}}catch(e){}
window.addEventListener('beforeunload',function(){localStorage.setItem('nz-console',JSON.stringify({q:$('q').value,v:$('v').value}))});
})();
</script>
</body></html>"#;

pub fn page() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(PAGE)).into_response()
}
