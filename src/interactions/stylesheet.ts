import { DEFAULT_ACCENT } from './brand.ts';

/** The pages' one stylesheet (CSP allows no inline style); `accent` was checked as #rgb or #rrggbb at start. */
export function stylesheet(accent: string = DEFAULT_ACCENT): string {
  return `
:root{--accent:${accent}}
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f3f4f6;color:#111827;margin:0;padding:1.5rem 1rem}
.brand{display:flex;align-items:center;justify-content:center;gap:.5rem;margin:0 auto 1rem;font-weight:700;font-size:1.1rem}.brand-logo{max-height:2rem;max-width:8rem}
.card{max-width:26rem;margin:0 auto;background:#fff;border-radius:.5rem;padding:1.5rem 2rem;box-shadow:0 1px 3px rgba(0,0,0,.15);border-top:4px solid var(--accent)}
.origin{max-width:26rem;margin:1rem auto 0;text-align:center;color:#4b5563;font-size:.85rem}
h1{font-size:1.4rem;margin:0 0 .5rem}.lead{color:#374151}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
.app{display:flex;align-items:center;gap:.75rem;margin:0 0 1rem}.app-logo{width:3rem;height:3rem;object-fit:contain;border-radius:.25rem}.app-name{font-weight:600}
.app-links{font-size:.85rem;margin:1rem 0 0;display:flex;gap:1rem;flex-wrap:wrap;justify-content:center}a{color:var(--accent)}
input[type=text],input[type=password]{width:100%;padding:.5rem;border:1px solid #9ca3af;border-radius:.25rem;font-size:1rem}
input:focus,button:focus{outline:3px solid var(--accent);outline-offset:1px}
button{width:100%;margin-top:1rem;padding:.6rem;border:0;border-radius:.25rem;background:var(--accent);color:#fff;font-size:1rem;cursor:pointer}
button.secondary{background:#e5e7eb;color:#111827;margin-top:.5rem}button.link{width:auto;margin:0;padding:0;background:none;color:var(--accent);text-decoration:underline;font-size:inherit}
.error{background:#fee2e2;color:#991b1b;padding:.5rem;border-radius:.25rem}
.who{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline;background:#f9fafb;border-radius:.25rem;padding:.5rem;margin:0 0 1rem}.who form{display:inline}
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.3rem 0}fieldset{border:0;padding:0;margin:1rem 0 0}legend{font-weight:600}.choice{display:flex;gap:.5rem;align-items:center;margin:.4rem 0}input[type=radio]{accent-color:var(--accent)}.choice label{margin:0;font-weight:400}.roles{color:#4b5563}dt{font-weight:600}dd{margin:0 0 .5rem}
h2{font-size:1.1rem;margin:1.25rem 0 .5rem}ul.factors,ul.sessions{padding-left:1.2rem}ul.factors li{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline;margin:0 0 .5rem}ul.factors form{display:inline}ul.factors form.rename{display:flex;flex-basis:100%;gap:.5rem;align-items:center}form.rename input{flex:1;min-width:0;padding:.3rem .5rem}ul.sessions li{margin:.3rem 0}ul.sessions form{display:inline}.when{color:#4b5563}.notice{background:#dcfce7;color:#14532d;padding:.5rem;border-radius:.25rem}.forgot{margin:.5rem 0 0;font-size:.9rem}.qr svg{display:block;width:12rem;height:12rem;margin:1rem auto}.secret,.codes{font-family:ui-monospace,monospace}.secret{word-break:break-all}.codes{columns:2;padding-left:1.2rem}input[inputmode=numeric]{letter-spacing:.1em}
@media (max-width:30rem){body{padding:1rem .5rem}.card{padding:1.25rem 1rem}}
`;
}
