import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config.ts';

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

  it('documents every configuration variable in its table', () => {
    const missing = Object.keys(ConfigSchema.properties).filter(
      (name) => !readme.includes(`| \`${name}\` |`),
    );
    expect(missing, 'variables missing from the README configuration table').toEqual([]);
  });

  it('shows the two commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});
