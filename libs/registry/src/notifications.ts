/**
 * The registry's notifications webhook (CNCF distribution "notifications"): envelopes of events, POSTed with
 * `Content-Type: application/vnd.docker.distribution.events.v1+json`. Only manifest pushes to a tag matter
 * for automatic deployments; blob pushes, pulls, mounts and deletes are noise.
 */
import { RegistryError } from './errors';
import { isValidDigest, isValidRepository } from './reference';

export const NOTIFICATION_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

export interface RegistryPushEvent {
  /** The event's id: the registry retries deliveries, so receivers deduplicate on it. */
  id: string;
  /** Host the image was pushed to (request.host, else the host of target.url), lowercase. */
  registryHost: string;
  repository: string;
  tag: string;
  digest: string;
  /** As the registry wrote it (RFC 3339, nanoseconds). */
  timestamp: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** Manifests, image indexes and manifest lists; blobs are pushed as application/octet-stream or layer types. */
function isManifestMediaType(mediaType: unknown): boolean {
  return mediaType === undefined || (typeof mediaType === 'string' && /manifest|index/.test(mediaType));
}

function hostOf(event: Json): string | undefined {
  const request = isObject(event.request) ? event.request : {};
  if (nonEmpty(request.host)) return request.host.toLowerCase();
  const target = isObject(event.target) ? event.target : {};
  if (!nonEmpty(target.url)) return undefined;
  try {
    return new URL(target.url).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses a notifications envelope (`{"events":[…]}`, as an object, a JSON string or raw bytes) and returns the
 * pushes of manifests to a tag. Events of other kinds, or missing what a push needs, are left out; a body that is
 * not an envelope throws RegistryError (the webhook answers 400).
 */
export function parseRegistryNotification(body: unknown): RegistryPushEvent[] {
  let envelope = body;
  if (body instanceof Uint8Array) envelope = Buffer.from(body).toString('utf8');
  if (typeof envelope === 'string') {
    try {
      envelope = JSON.parse(envelope);
    } catch (e) {
      throw new RegistryError(`registry notification is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isObject(envelope) || !Array.isArray(envelope.events)) {
    throw new RegistryError(
      'registry notification has no "events" array (expected an application/vnd.docker.distribution.events.v1+json envelope)',
    );
  }

  const pushes: RegistryPushEvent[] = [];
  for (const event of envelope.events) {
    if (!isObject(event) || event.action !== 'push' || !isObject(event.target)) continue;
    const { target } = event;
    if (!nonEmpty(event.id) || !nonEmpty(target.tag) || !isManifestMediaType(target.mediaType)) continue;
    if (!nonEmpty(target.digest) || !isValidDigest(target.digest)) continue;
    if (!nonEmpty(target.repository) || !isValidRepository(target.repository)) continue;
    const registryHost = hostOf(event);
    if (registryHost === undefined) continue;
    pushes.push({
      id: event.id,
      registryHost,
      repository: target.repository,
      tag: target.tag,
      digest: target.digest,
      timestamp: typeof event.timestamp === 'string' ? event.timestamp : '',
    });
  }
  return pushes;
}
