import { CONVERT_RETRIES, ConfigError, DEFAULT_CONFIG, convertWorstCaseMinutes, resolveConfig } from '../../../contracts/config';

describe('the execution timeout against the Convert worst case', () => {
  test('adds three runs up to the Glue timeout, the service-error waits before each, the waits between runs and the other states', () => {
    // Service-error waits: 30, 60, 120, 240, 480, then capped at 600 three times = 2730 s before each of 3 runs.
    // Waits between runs: 60 + 120 s. Other states: 600 s.
    const seconds = 3 * (60 * 60 + 2730) + 180 + 600;

    expect(convertWorstCaseMinutes({ timeoutMinutes: 60, executionClass: 'STANDARD' })).toBe(Math.ceil(seconds / 60));
    expect(convertWorstCaseMinutes({ timeoutMinutes: 60, executionClass: 'STANDARD' })).toBe(330);
    expect(CONVERT_RETRIES.failedRuns.retries).toBe(2);
  });

  test("counts a FLEX run's wait for capacity, up to 20 minutes before each of the 3 runs", () => {
    const standard = convertWorstCaseMinutes({ timeoutMinutes: 60, executionClass: 'STANDARD' });

    expect(CONVERT_RETRIES.flexWaitSeconds).toBe(20 * 60);
    expect(convertWorstCaseMinutes({ timeoutMinutes: 60, executionClass: 'FLEX' })).toBe(standard + 3 * 20);
    expect(convertWorstCaseMinutes({ timeoutMinutes: 60, executionClass: 'FLEX' })).toBe(390);
  });

  test('a FLEX job needs the longer execution timeout; the same timeout holds a STANDARD job', () => {
    const timeout = { executionTimeoutMinutes: 360, glue: { timeoutMinutes: 60 } };

    expect(() => resolveConfig({ ...timeout, glue: { ...timeout.glue, executionClass: 'FLEX' } })).toThrow(
      /shorter than the Convert state's worst case of 390 minutes.*waiting for FLEX capacity/,
    );
    expect(resolveConfig({ ...timeout, glue: { ...timeout.glue, executionClass: 'STANDARD' } }).executionTimeoutMinutes).toBe(360);
  });

  test('the default execution timeout holds the default Glue timeout', () => {
    expect(DEFAULT_CONFIG.glue.executionClass).toBe('FLEX');
    expect(DEFAULT_CONFIG.executionTimeoutMinutes).toBeGreaterThanOrEqual(convertWorstCaseMinutes(DEFAULT_CONFIG.glue));
    expect(resolveConfig().executionTimeoutMinutes).toBe(DEFAULT_CONFIG.executionTimeoutMinutes);
  });

  test('a shorter execution timeout is refused, naming both figures', () => {
    const refuse = () => resolveConfig({ executionTimeoutMinutes: 120 });

    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(/executionTimeoutMinutes.*120 minutes is shorter than the Convert state's worst case of 390 minutes/);
  });

  test('a shorter Glue timeout makes a shorter execution timeout valid', () => {
    const glue = { timeoutMinutes: 10, executionClass: 'FLEX' } as const;
    const config = resolveConfig({ executionTimeoutMinutes: convertWorstCaseMinutes(glue), glue });

    expect(config.executionTimeoutMinutes).toBe(convertWorstCaseMinutes(glue));
    expect(() => resolveConfig({ executionTimeoutMinutes: convertWorstCaseMinutes(glue) - 1, glue })).toThrow(ConfigError);
  });
});
