declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  const instance: (provider: object) => unknown;
  export default instance;
}

declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  /** Validates a private JWKS and installs it as the provider's key store (`this` is the provider). */
  const initialize: (this: object, jwks: { keys: object[] }) => void;
  export default initialize;
}

declare module 'oidc-provider/lib/actions/introspection.js' {
  /** The introspection endpoint's middleware, spread into the router when a provider is made. */
  const stack: unknown[];
  export default stack;
}

declare module 'oidc-provider/lib/shared/reject_structured_tokens.js' {
  const rejectStructuredTokens: unknown;
  export default rejectStructuredTokens;
}
