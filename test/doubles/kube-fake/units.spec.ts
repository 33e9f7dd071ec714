import { describe, expect, it } from 'vitest';
import { FieldSet, fieldSetOf } from './fieldset';
import { jsonPatch, mergePatch, strategicMerge } from './patch';
import { parseLabelSelector, matchesLabelSelector } from './selectors';
import { nameProblems, parseQuantity } from './validate';
import { desiredReplicaCounts, templateHash } from './workloads';

/** Pure helpers behind the fake (the behaviour over HTTP is covered by the other specs). */
describe('kube-fake helpers', () => {
  it('parses label selectors like kube-apiserver', () => {
    const sel = parseLabelSelector('env in (prod, staging),!canary,tier!=db,app');
    expect(sel({ env: 'prod', app: 'x' })).toBe(true);
    expect(sel({ env: 'prod', app: 'x', canary: '1' })).toBe(false);
    expect(sel({ env: 'dev', app: 'x' })).toBe(false);
    expect(sel({ env: 'prod', app: 'x', tier: 'db' })).toBe(false);
    expect(sel({ env: 'prod' })).toBe(false);
    expect(parseLabelSelector('')({})).toBe(true);
    expect(() => parseLabelSelector('a in b')).toThrow(/unable to parse requirement/);
    expect(
      matchesLabelSelector(
        { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['x'] }] },
        { a: '1', b: 'y' },
      ),
    ).toBe(true);
    expect(matchesLabelSelector(undefined, { a: '1' })).toBe(false);
  });

  it('implements merge patch, JSON patch and the strategic merge directives', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3] });
    expect(
      jsonPatch({ a: [1, 2], b: { 'x/y': 1 } }, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'move', from: '/b/x~1y', path: '/c' },
        { op: 'copy', from: '/c', path: '/d' },
      ]),
    ).toEqual({ a: [1, 2, 3], b: {}, c: 1, d: 1 });
    expect(() => jsonPatch({}, [{ op: 'remove', path: '/missing' }])).toThrow(/nonexistent/);
    const live = {
      containers: [
        { name: 'a', image: '1', env: [{ name: 'X', value: '1' }] },
        { name: 'b', image: '1' },
      ],
      args: ['x'],
    };
    expect(
      strategicMerge(live, {
        containers: [
          { name: 'b', $patch: 'delete' },
          { name: 'a', env: [{ name: 'Y', value: '2' }] },
        ],
        args: ['y'],
      }),
    ).toEqual({
      containers: [
        {
          name: 'a',
          image: '1',
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '2' },
          ],
        },
      ],
      args: ['y'],
    });
  });

  it('converts field sets to and from FieldsV1', () => {
    const set = fieldSetOf({ metadata: { labels: { a: 'b' } }, spec: { ports: [{ port: 80 }], resources: {} } });
    const v1 = set.toFieldsV1();
    expect(v1).toEqual({
      'f:metadata': { 'f:labels': { 'f:a': {} } },
      'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } }, 'f:resources': {} },
    });
    expect(FieldSet.fromFieldsV1(v1).equals(set)).toBe(true);
  });

  it('parses quantities, names and rollout fenceposts', () => {
    expect([
      parseQuantity('500m'),
      parseQuantity('2'),
      parseQuantity('128Mi'),
      parseQuantity('1G'),
      parseQuantity('1e3'),
      parseQuantity('x'),
    ]).toEqual([0.5, 2, 134217728, 1e9, 1000, undefined]);
    expect(nameProblems('ok-name.example', 'subdomain')).toEqual([]);
    expect(nameProblems('ok-name.example', 'label')).toHaveLength(1);
    expect(nameProblems('9lives', 'dns1035')).toHaveLength(1);
    expect(desiredReplicaCounts({}, 10)).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(desiredReplicaCounts({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }, 3)).toEqual({
      maxSurge: 0,
      maxUnavailable: 1,
    });
    expect(templateHash({ spec: { b: 1, a: 2 } })).toBe(templateHash({ spec: { a: 2, b: 1 } }));
    expect(templateHash({ spec: { a: 1 } })).not.toBe(templateHash({ spec: { a: 2 } }));
  });
});
