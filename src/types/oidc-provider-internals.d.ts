declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  const instance: (provider: object) => unknown;
  export default instance;
}

declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  /** Validates a private JWKS and installs it as the provider's key store (`this` is the provider). */
  const initialize: (this: object, jwks: { keys: object[] }) => void;
  export default initialize;
}
