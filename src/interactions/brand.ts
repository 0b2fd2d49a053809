/** The deployment as its pages name it (TESSERA_BRAND_*), and the issuer's host, shown on every page. */
export type Brand = {
  name: string;
  /** An https image (http on this machine), shown beside the name. */
  logoUrl?: string;
  /** A CSS colour, checked strictly at start (#rgb or #rrggbb): it is written into the stylesheet. */
  accent?: string;
  issuerHost: string;
};

export const DEFAULT_BRAND_NAME = 'Tessera';
export const DEFAULT_ACCENT = '#1d4ed8';
export const ACCENT_PATTERN = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

export function brandFor(settings: { name: string; logoUrl?: string; accent?: string }, issuer: string): Brand {
  return { ...settings, issuerHost: new URL(issuer).host };
}
