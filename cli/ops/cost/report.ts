/** The model's report of one load (the bill and the capacity) and its `--json` form. */
import { monthlyBill } from './bill';
import { capacity, planForTarget } from './capacity';
import { glueThroughput } from './inputs/benchmarks';
import type { StackInventory } from './inputs/template';
import { REFERENCE_PLAN, type CostReport, type Measured, type ModelInput } from './model';
import { ASSUMPTIONS, LIMITS, PRICES } from './prices';

/** The bill and the capacity of one load, and the settings that reach the target where the given ones do not. */
export function costReport(input: ModelInput): CostReport {
  const bill = monthlyBill(input);
  const { parts, headroom } = capacity(input);
  return { ...bill, capacity: parts, headroom, toTarget: planForTarget(input) };
}

/**
 * `--json`: the load, the batching, each service's monthly USD (summing to the total), the headroom (with the part
 * that limits first, `limitedBy`), the settings that reach the target, and the inputs. `scale` is the factor the
 * load was multiplied by (`--scale`).
 */
export function costJson(report: CostReport, inventory: StackInventory, measured: Measured, scale = 1): Record<string, unknown> {
  const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
  const services: Record<string, number> = {};
  for (const l of report.lines) services[l.service] = l.usd;
  const glue = measured.glue;
  const throughput = glueThroughput(glue);
  return {
    filesPerDay: report.load.filesPerDay,
    mbPerFile: report.load.mbPerFile,
    datasets: report.load.datasets,
    batchSize: report.load.batchSize,
    maxWaitMinutes: report.load.maxWaitMinutes,
    month: report.month,
    filesPerManifest: round(report.batching.filesPerManifest, 2),
    manifestsPerDay: round(report.batching.manifestsPerDay, 2),
    sealedBy: report.batching.sealedBy,
    glueRun: { ...report.glueRun, executionClass: report.glueExecutionClass },
    monthlyUsd: report.monthlyUsd,
    services,
    storageGrowthUsdPerMonth: report.storageGrowthUsdPerMonth,
    headroom: { factor: report.headroom.factor, part: report.headroom.part, limitedBy: report.headroom.limitedBy },
    toTarget: report.toTarget,
    scale,
    capacity: report.capacity,
    referencePlan: REFERENCE_PLAN,
    measured: {
      builderBenchmark: measured.builderSource,
      date: measured.builder.date,
      machine: measured.builder.machine,
      writeUnitsPerFile: measured.builder.writeUnitsPerFile.withSweep,
      readUnitsPerFile: measured.builder.readUnitsPerFile,
      commitMs: measured.builder.commitTransaction.meanMs,
      pointerReadMs: measured.builder.pointerRead.meanMs,
      conflictRate: measured.builder.conflictRate,
      handlerSecondsPerFile: measured.builder.handlerSecondsPerFile,
      sweepSeconds: measured.builder.sweepSeconds,
      idleSweepSeconds: measured.builder.idleSweepSeconds,
      contended: measured.builder.contended ?? null,
      glue: {
        source: measured.glueSource,
        date: glue.date,
        machine: glue.machine,
        batchMb: glue.batch.megabytes,
        localCores: glue.sparkCores,
        warmSeconds: glue.seconds.steady,
        coldSeconds: glue.seconds.steady + glue.seconds.coldJvmExtra,
        parquetMb: glue.parquetMegabytes,
        quarantinedLineShare: throughput.quarantinedLineShare,
        coreSecondsPerGb: throughput.coreSecondsPerGb,
        coldJvmSeconds: throughput.coldJvmSeconds,
      },
      successPath: measured.successPath,
    },
    inventory,
    prices: PRICES,
    limits: LIMITS,
    assumptions: ASSUMPTIONS,
  };
}
