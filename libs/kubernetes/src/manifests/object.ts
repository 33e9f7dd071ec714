import type { KubeObject } from './types';

/**
 * Narrows a typed kubernetes-models shape (checked by the compiler against the real API types) to
 * the generic `KubeObject` the applier works with. The models' interfaces have no index signature
 * and an optional `metadata`, hence the cast after checking that a name is there.
 */
export function toKubeObject<T extends { apiVersion: string; kind: string; metadata?: { name?: string } }>(obj: T): KubeObject {
  if (typeof obj.metadata?.name !== 'string' || obj.metadata.name === '') throw new Error(`${obj.kind} without a name.`);
  return obj as unknown as KubeObject;
}
