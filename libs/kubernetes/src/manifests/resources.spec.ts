import { describe, expect, it } from 'vitest';
import { INSTANCE_PAIRS } from '@apprunner/service';
import { cpuQuantity, formatMebibytes, formatMillicores, instanceQuantities, memoryQuantity } from './resources';

/** App Runner's 11 pairs (guide §6.1) in the stored numeric form, and the quantities they must become. */
const EXPECTED: Array<[label: string, cpu: string, memory: string, k8sCpu: string, k8sMemory: string]> = [
  ['0.25 vCPU | 0.5 GB', '256', '512', '250m', '512Mi'],
  ['0.25 vCPU | 1 GB', '256', '1024', '250m', '1Gi'],
  ['0.5 vCPU | 1 GB', '512', '1024', '500m', '1Gi'],
  ['1 vCPU | 2 GB', '1024', '2048', '1', '2Gi'],
  ['1 vCPU | 3 GB', '1024', '3072', '1', '3Gi'],
  ['1 vCPU | 4 GB', '1024', '4096', '1', '4Gi'],
  ['2 vCPU | 4 GB', '2048', '4096', '2', '4Gi'],
  ['2 vCPU | 6 GB', '2048', '6144', '2', '6Gi'],
  ['4 vCPU | 8 GB', '4096', '8192', '4', '8Gi'],
  ['4 vCPU | 10 GB', '4096', '10240', '4', '10Gi'],
  ['4 vCPU | 12 GB', '4096', '12288', '4', '12Gi'],
];

describe('instance size -> resource quantities', () => {
  it('covers exactly the pairs of INSTANCE_PAIRS in service-spec.ts', () => {
    const fromSpec = Object.entries(INSTANCE_PAIRS).flatMap(([cpu, memories]) => memories.map((memory) => `${cpu}/${memory}`));
    expect(fromSpec).toHaveLength(11);
    expect(EXPECTED.map(([, cpu, memory]) => `${cpu}/${memory}`).sort()).toEqual([...fromSpec].sort());
  });

  for (const [label, Cpu, Memory, cpu, memory] of EXPECTED) {
    it(`${label} -> cpu ${cpu}, memory ${memory}`, () => {
      expect(instanceQuantities({ Cpu, Memory })).toEqual({ cpu, memory });
    });
  }

  it('writes canonical quantities (what the API server reads back)', () => {
    expect(formatMillicores(250)).toBe('250m');
    expect(formatMillicores(1500)).toBe('1500m');
    expect(formatMillicores(120_000)).toBe('120');
    expect(formatMebibytes(512)).toBe('512Mi');
    expect(formatMebibytes(1536)).toBe('1536Mi');
    expect(formatMebibytes(245_760)).toBe('240Gi');
    expect(formatMebibytes(1_048_576)).toBe('1Ti');
  });

  it('refuses values that are not App Runner numeric notation', () => {
    expect(() => cpuQuantity('1 vCPU')).toThrow(/numeric notation/);
    expect(() => cpuQuantity('0')).toThrow();
    expect(() => cpuQuantity('100')).toThrow(/whole number of millicores/);
    expect(() => memoryQuantity('2 GB')).toThrow(/numeric notation/);
    expect(() => memoryQuantity('-512')).toThrow();
    expect(() => formatMillicores(0)).toThrow();
  });
});
