import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryError } from './errors';
import { parseRegistryNotification } from './notifications';

/**
 * Bodies docker-registry 2.8.2 POSTed while skopeo pushed `team/app:v1` (one image) and `team/app:multi`
 * (an image index, with --all), then inspected v1: blob pushes, an untagged child manifest, two tagged
 * manifest pushes and pulls. Regenerate with test/capture-notifications.cli.ts.
 */
const fixture = JSON.parse(readFileSync(join(__dirname, '__fixtures__/notifications.docker-registry-2.8.2.json'), 'utf8')) as {
  single: string;
  index: string;
  host: string;
  deliveries: { events: Record<string, any>[] }[];
};

describe('parseRegistryNotification on what the registry really sent', () => {
  it('keeps only the two pushes of a tagged manifest or index', () => {
    const pushes = fixture.deliveries.flatMap((body) => parseRegistryNotification(body));
    expect(pushes).toEqual([
      {
        id: expect.any(String),
        registryHost: fixture.host,
        repository: 'team/app',
        tag: 'v1',
        digest: fixture.single,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
      {
        id: expect.any(String),
        registryHost: fixture.host,
        repository: 'team/app',
        tag: 'multi',
        digest: fixture.index,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    expect(new Set(pushes.map((p) => p.id)).size).toBe(2);
  });

  it('accepts the body as the raw JSON text or bytes of the request', () => {
    const tagged = fixture.deliveries.find((d) => d.events[0].target.tag === 'v1' && d.events[0].action === 'push')!;
    const text = JSON.stringify(tagged);
    expect(parseRegistryNotification(text)).toEqual(parseRegistryNotification(tagged));
    expect(parseRegistryNotification(Buffer.from(text))).toHaveLength(1);
  });
});

describe('parseRegistryNotification', () => {
  const DIGEST = `sha256:${'b'.repeat(64)}`;
  const push = (overrides: Record<string, unknown> = {}, target: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: 'evt-1',
    timestamp: '2026-01-01T00:00:00.123456789Z',
    action: 'push',
    target: {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: DIGEST,
      repository: 'team/app',
      url: 'https://registry.example.com:5000/v2/team/app/manifests/' + DIGEST,
      tag: 'latest',
      ...target,
    },
    request: { host: 'Registry.Example.com:5000', method: 'PUT' },
    ...overrides,
  });

  it('reads the registry host from request.host, else from target.url', () => {
    expect(parseRegistryNotification({ events: [push()] })[0].registryHost).toBe('registry.example.com:5000');
    expect(parseRegistryNotification({ events: [push({ request: {} })] })[0].registryHost).toBe('registry.example.com:5000');
    expect(parseRegistryNotification({ events: [push({ request: {} }, { url: undefined })] })).toEqual([]);
  });

  it('leaves out pulls, deletes, untagged pushes, blobs and malformed events', () => {
    const events = [
      push({ action: 'pull' }),
      push({ action: 'delete' }),
      push({}, { tag: undefined }),
      push({}, { tag: '' }),
      push({}, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }),
      push({}, { mediaType: 'application/octet-stream' }),
      push({}, { digest: 'sha256:short' }),
      push({}, { repository: 'Team/App' }),
      push({ id: undefined }),
      push({ target: 'nope' }),
      'not an event',
      null,
    ];
    expect(parseRegistryNotification({ events })).toEqual([]);
    expect(parseRegistryNotification({ events: [] })).toEqual([]);
  });

  it('throws RegistryError on a body that is not an envelope', () => {
    expect(() => parseRegistryNotification('{oops')).toThrow(/not valid JSON/);
    expect(() => parseRegistryNotification({})).toThrow(RegistryError);
    expect(() => parseRegistryNotification([push()])).toThrow(/no "events" array/);
    expect(() => parseRegistryNotification(undefined)).toThrow(RegistryError);
  });
});
