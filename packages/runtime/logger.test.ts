import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/** The logger as a program uses it, in a child process, its stdout read as a user sees it. */
function logLine(format: 'pretty' | 'json'): string {
  const script = `import('./logger.js').then(({ createLogger }) => createLogger('hello-test', 'info', '${format}').warn({ instanceId: 'HelloService-a-1' }, 'registration unreachable'))`;
  return execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script.replace("'./logger.js'", JSON.stringify(new URL('./logger.js', import.meta.url).href))],
    {
      encoding: 'utf8',
    },
  ).trim();
}

test('pretty (the default): one readable line, local time, level, program, message, fields', () => {
  const line = logLine('pretty');
  assert.equal(line.split('\n').length, 1);
  assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(hello-test\): registration unreachable \{"instanceId":"HelloService-a-1"\}$/);
});

test('json: pino JSON lines', () => {
  const event = JSON.parse(logLine('json')) as Record<string, unknown>;
  assert.equal(event.msg, 'registration unreachable');
  assert.equal(event.name, 'hello-test');
  assert.equal(event.level, 40);
  assert.equal(event.instanceId, 'HelloService-a-1');
});
