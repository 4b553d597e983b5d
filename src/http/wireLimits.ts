/**
 * Limits both ends of the wire agree on. Plain constants with no imports, so that the client can use
 * them without pulling in server code.
 */

/** Most calls in one batched HTTP request; the typed client splits larger batches. */
export const MAX_BATCH_SIZE = 50;

/**
 * Largest request body. Above 1 MB on purpose: a 1 MB string must reach zod and be refused with its
 * issues (BAD_REQUEST), not cut off earlier as PAYLOAD_TOO_LARGE.
 */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
