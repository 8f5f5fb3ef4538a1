import { CONVERT_RETRIES, ConfigError, DEFAULT_CONFIG, convertWorstCaseMinutes, resolveConfig } from '../../../contracts/config';

describe('the execution timeout against the Convert worst case', () => {
  test('adds three runs up to the Glue timeout, the service-error waits before each, the waits between runs and the other states', () => {
    // Service-error waits: 30, 60, 120, 240, 480, then capped at 600 three times = 2730 s before each of 3 runs.
    // Waits between runs: 60 + 120 s. Other states: 600 s.
    const seconds = 3 * (60 * 60 + 2730) + 180 + 600;

    expect(convertWorstCaseMinutes(60)).toBe(Math.ceil(seconds / 60));
    expect(convertWorstCaseMinutes(60)).toBe(330);
    expect(CONVERT_RETRIES.failedRuns.retries).toBe(2);
  });

  test('the default execution timeout holds the default Glue timeout', () => {
    expect(DEFAULT_CONFIG.executionTimeoutMinutes).toBeGreaterThanOrEqual(convertWorstCaseMinutes(DEFAULT_CONFIG.glue.timeoutMinutes));
    expect(resolveConfig().executionTimeoutMinutes).toBe(DEFAULT_CONFIG.executionTimeoutMinutes);
  });

  test('a shorter execution timeout is refused, naming both figures', () => {
    const refuse = () => resolveConfig({ executionTimeoutMinutes: 120 });

    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(/executionTimeoutMinutes.*120 minutes is shorter than the Convert state's worst case of 330 minutes/);
  });

  test('a shorter Glue timeout makes a shorter execution timeout valid', () => {
    const config = resolveConfig({ executionTimeoutMinutes: convertWorstCaseMinutes(10), glue: { timeoutMinutes: 10 } });

    expect(config.executionTimeoutMinutes).toBe(convertWorstCaseMinutes(10));
    expect(() => resolveConfig({ executionTimeoutMinutes: convertWorstCaseMinutes(10) - 1, glue: { timeoutMinutes: 10 } })).toThrow(
      ConfigError,
    );
  });
});
