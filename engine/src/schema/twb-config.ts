/**
 * A tuned configuration as a file (`kind: "twb-config"`): the model and every run option, so that
 * `twb profile --config FILE` reproduces the run it was exported from. Plain JSON a user reviews,
 * diffs and commits.
 */
import type { RunConfig } from './run';
import { runConfigFields } from './validate-run';
import { literal, object, optional, str, Validator } from './validate';
import { parseJsonText } from './validate';

export const TWB_CONFIG_SCHEMA_VERSION = 1;

export interface TwbConfig {
  schemaVersion: typeof TWB_CONFIG_SCHEMA_VERSION;
  kind: 'twb-config';
  /** `builtin:NAME` or a model path (relative paths are relative to the config file). */
  model: string;
  config: RunConfig;
  /** Id of the run it came from, if any. */
  fromRun?: string;
}

const validateTwbConfigValue: Validator<TwbConfig> = object<TwbConfig>({
  schemaVersion: literal(TWB_CONFIG_SCHEMA_VERSION),
  kind: literal('twb-config'),
  model: str,
  config: object<RunConfig>(runConfigFields),
  fromRun: optional(str),
});

/** Parses and checks a config file's text; throws naming the bad field. */
export function parseTwbConfig(text: string): TwbConfig {
  return validateTwbConfigValue(parseJsonText(text), 'config');
}
