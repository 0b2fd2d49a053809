import { z } from 'zod';
import { EVENTS_SUPPORTED } from './events.ts';

/** RFC 8935 push delivery; the only method Tessera transmits with (poll, RFC 8936, is not offered). */
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';

const Delivery = z.object({
  method: z.string().refine((m) => m === PUSH, { message: `only push delivery (${PUSH}) is supported` }),
  endpoint_url: z.url({ protocol: /^https?$/ }).max(2000).refine((u) => !u.includes('#'), 'must not have a fragment'),
  /** Sent as the Authorization header of every push to the receiver; write-only. */
  authorization_header: z.string().min(1).max(4096).regex(/^[\t\x20-\x7e]+$/, 'printable ASCII only').optional(),
});

const EventTypes = z.array(z.string().min(1).max(500)).max(50);

/**
 * A stream configuration as a receiver writes it (SSF 1.0 section 8.1.1). Transmitter-supplied
 * properties (iss, aud, events_supported, events_delivered...) may be sent back as read and are ignored.
 */
export const NewStream = z.object({
  delivery: Delivery,
  events_requested: EventTypes.default([]),
  description: z.string().max(500).optional(),
});
export type NewStream = z.infer<typeof NewStream>;

/** PATCH: the stream named, and what changes. PUT replaces with NewStream's fields. */
export const StreamPatch = z.object({
  stream_id: z.string().min(1).max(100),
  delivery: Delivery.optional(),
  events_requested: EventTypes.optional(),
  description: z.string().max(500).nullable().optional(),
});
export const StreamReplace = NewStream.extend({ stream_id: z.string().min(1).max(100) });

export const StreamStatus = z.enum(['enabled', 'paused', 'disabled']);
export const StatusUpdate = z.object({
  stream_id: z.string().min(1).max(100),
  status: StreamStatus,
  reason: z.string().max(500).optional(),
});

export const VerificationRequest = z.object({
  stream_id: z.string().min(1).max(100),
  state: z.string().max(500).optional(),
});

/** The event types a stream will get: what it asked for that Tessera transmits. */
export const eventsDelivered = (requested: string[]) => requested.filter((e) => (EVENTS_SUPPORTED as readonly string[]).includes(e));

/** add_subject and remove_subject (SSF 1.0 section 8.1.3): users are named as RFC 9493 iss_sub subjects. */
export const SubjectRequest = z.object({
  stream_id: z.string().min(1).max(100),
  subject: z.object({ format: z.literal('iss_sub', { message: 'subjects are iss_sub: {format, iss, sub}' }), iss: z.string().min(1).max(2000), sub: z.string().min(1).max(200) }),
  verified: z.boolean().optional(),
});
