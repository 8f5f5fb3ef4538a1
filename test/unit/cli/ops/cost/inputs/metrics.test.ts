import { METRIC } from '../../../../../../handlers/common/observability';
import { EMITTED_METRICS } from '../../../../../../cli/ops/cost/inputs/metrics';

describe('EMITTED_METRICS', () => {
  it('counts every metric the handlers emit', () => {
    const counted = new Set(EMITTED_METRICS.map((m) => m.name));
    for (const name of Object.values(METRIC)) expect(counted).toContain(name);
  });
});
