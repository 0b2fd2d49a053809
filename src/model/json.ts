import { z } from 'zod';

/** Any JSON value; one instance, so the OpenAPI document names it once (JsonValue). */
export const JsonValue = z.json();
