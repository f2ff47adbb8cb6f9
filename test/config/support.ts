import { expect } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

/** The problems `loadConfig` refuses the environment with (it must refuse it). */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}
