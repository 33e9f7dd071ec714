import YAML from 'yaml';
import type { KubeObject } from './types';

/**
 * Multi-document YAML of desired objects (golden files, `kubectl apply -f`, debugging).
 * Written with the YAML 1.1 schema so that strings Kubernetes' YAML 1.1 parser would read as other
 * types (`no`, `on`, `y`, `12:30`...) come out quoted; the default 1.2 output leaves them bare.
 */
export function toYaml(objects: KubeObject[]): string {
  return objects.map((obj) => YAML.stringify(obj, { version: '1.1', lineWidth: 0 })).join('---\n');
}
