/**
 * App Runner instance sizes -> Kubernetes resource quantities.
 *
 * Records store App Runner's numeric notation (normalizeInstance in @apprunner/service):
 * Cpu in 1/1024 vCPU ('256' = 0.25 vCPU, '1024' = 1 vCPU), Memory in MB where App Runner's
 * "GB" is 1024 MB ('2048' = 2 GB). One App Runner vCPU is one Kubernetes CPU and one App Runner
 * MB is one MiB, so the mapping is exact: '256' -> '250m', '2048' -> '2Gi'.
 *
 * Quantities are written in the form the API server itself prints (canonical form: CPU in whole
 * cores when integral, else millicores; memory in the largest binary unit that keeps an integer).
 * The live object then reads back exactly what was applied, and drift checks see no false diffs.
 */

export interface ComputeQuantities {
  cpu: string;
  memory: string;
}

/** The largest and smallest of App Runner's 11 instance pairs. */
export const LARGEST_INSTANCE = { Cpu: '4096', Memory: '12288' } as const;
export const SMALLEST_INSTANCE = { Cpu: '256', Memory: '512' } as const;

/** App Runner Cpu (1/1024 vCPU, as stored) -> millicores. '256' -> 250. */
export function cpuToMillicores(cpu: string): number {
  const units = parsePositiveInteger(cpu, 'Cpu');
  const milli = (units * 1000) / 1024;
  if (!Number.isInteger(milli)) throw new Error(`Cpu ${cpu} is not a whole number of millicores.`);
  return milli;
}

/** App Runner Memory (MB, 1 GB = 1024 MB, as stored) -> MiB. */
export function memoryToMebibytes(memory: string): number {
  return parsePositiveInteger(memory, 'Memory');
}

/** Canonical CPU quantity: 250 -> '250m', 1000 -> '1', 4000 -> '4'. */
export function formatMillicores(milli: number): string {
  if (!Number.isSafeInteger(milli) || milli <= 0) throw new Error(`Invalid millicores: ${milli}.`);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Canonical binary memory quantity: 512 -> '512Mi', 2048 -> '2Gi', 3072 -> '3Gi', 1048576 -> '1Ti'. */
export function formatMebibytes(mi: number): string {
  if (!Number.isSafeInteger(mi) || mi <= 0) throw new Error(`Invalid MiB: ${mi}.`);
  const units = ['Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let value = mi;
  let unit = 0;
  while (value % 1024 === 0 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}

export function cpuQuantity(cpu: string): string {
  return formatMillicores(cpuToMillicores(cpu));
}

export function memoryQuantity(memory: string): string {
  return formatMebibytes(memoryToMebibytes(memory));
}

/** `resources.requests` (= `resources.limits`) for an App Runner instance configuration. */
export function instanceQuantities(instance: { Cpu: string; Memory: string }): ComputeQuantities {
  return { cpu: cpuQuantity(instance.Cpu), memory: memoryQuantity(instance.Memory) };
}

function parsePositiveInteger(value: string, field: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${field} ${JSON.stringify(value)} is not in App Runner's numeric notation.`);
  return Number(value);
}
