/**
 * What the local mode keeps to its owner (the instance key in stack.json, mode 0600) and the Node it runs the
 * handlers on (22, Lambda's nodejs22.x).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveConfig } from '../../../contracts/config';
import { clientConfig, componentCredentials, LOCAL_COMPONENTS, type LocalStack } from '../../../contracts/local-stack';
import { emulatorKeyEnvironment, generateComponentKeys, generateCredentials, writeStackFile } from '../../../local/layout';
import { lambdaEnvironment } from '../../../local/lambda-host';
import { handlerNode } from '../../../local/runtime';

const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

describe('the instance key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'stack-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is new for every instance, shaped as an AWS key', () => {
    const keys = Array.from({ length: 20 }, generateCredentials);

    expect(new Set(keys.map((k) => k.accessKeyId)).size).toBe(20);
    expect(new Set(keys.map((k) => k.secretAccessKey)).size).toBe(20);
    for (const k of keys) {
      expect(k.accessKeyId).toMatch(/^LKIA[A-Z2-7]{16}$/);
      expect(k.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    }
  });

  it('is written to stack.json readable by its owner only, even over a file another mode left', () => {
    const stackFile = path.join(dir, 'stack.json');
    writeFileSync(stackFile, '{}');
    chmodSync(stackFile, 0o644);
    const stack = { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', ...generateCredentials() } as LocalStack;

    writeStackFile(stackFile, stack);

    expect(statSync(stackFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(stackFile, 'utf8'))).toEqual(stack);
  });

  it('is what the local clients sign with', () => {
    const key = generateCredentials();

    expect(clientConfig({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', ...key }).credentials).toEqual(key);
  });
});

describe("the components' keys", () => {
  it('are one new key per component, handed to the emulator in its environment with the instance key', () => {
    const instance = generateCredentials();
    const keys = generateComponentKeys();

    expect(Object.keys(keys).sort()).toEqual([...LOCAL_COMPONENTS].sort());
    expect(new Set([instance, ...Object.values(keys)].map((k) => k.accessKeyId)).size).toBe(LOCAL_COMPONENTS.length + 1);
    const env = emulatorKeyEnvironment(instance, keys);
    expect(env.EMULATOR_ACCESS_KEY_ID).toBe(instance.accessKeyId);
    expect(JSON.parse(env.EMULATOR_COMPONENT_KEYS)).toEqual(keys);
    expect(emulatorKeyEnvironment(instance)).not.toHaveProperty('EMULATOR_COMPONENT_KEYS');
  });

  it("are what each handler signs with; a stack file without them gives the instance's key", () => {
    const keys = generateComponentKeys();
    const stack = {
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      ...generateCredentials(),
      batchSize: 1,
      maxWaitSeconds: 60,
    } as LocalStack;

    for (const fn of ['manifest-builder', 'sweeper'] as const) {
      const env = lambdaEnvironment(fn, { ...stack, componentKeys: keys }, resolveConfig());
      expect([env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY]).toEqual([keys[fn].accessKeyId, keys[fn].secretAccessKey]);
    }
    expect(componentCredentials(stack, 'glue-job')).toEqual({ accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey });
  });
});

describe('the handlers run on Node 22', () => {
  it('in these tests (run them through make, which puts Node 22 first on PATH)', () => {
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(22);
  });

  it('in the local mode: this node when it is 22 or later', () => {
    expect(handlerNode('22.1.0', '/usr/bin/node-now')).toBe('/usr/bin/node-now');
    expect(handlerNode('24.0.0', '/usr/bin/node-now')).toBe('/usr/bin/node-now');
  });

  it('in the local mode: else the newest Node 22 make install brought into .tools/, or a clear refusal', () => {
    const tools = mkdtempSync(path.join(os.tmpdir(), 'tools-'));
    try {
      expect(() => handlerNode('20.20.2', '/usr/bin/node-20', tools)).toThrow(
        'The handlers run on Node 22, as on Lambda (nodejs22.x), and this is Node 20.20.2: run make install, which brings it.',
      );
      for (const version of ['22.9.0', '22.23.5']) {
        mkdirSync(path.join(tools, `node-${version}`, 'node_modules', '.bin'), { recursive: true });
        symlinkSync(process.execPath, path.join(tools, `node-${version}`, 'node_modules', '.bin', 'node'));
      }

      const chosen = handlerNode('20.20.2', '/usr/bin/node-20', tools);

      expect(chosen).toBe(path.join(tools, 'node-22.23.5', 'node_modules', '.bin', 'node'));
      expect(major(execFileSync(chosen, ['--version'], { encoding: 'utf8' }).trim())).toBeGreaterThanOrEqual(22);
    } finally {
      rmSync(tools, { recursive: true, force: true });
    }
  });
});
