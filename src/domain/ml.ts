/**
 * The ML provenance record kinds (SPEC §19): what a dataset, a dataset version, a sample set, a model, a piece
 * of software, a config, a run, an evaluation and a context record hold, as zod schemas. Records of these
 * kinds are ordinary records (§11): these schemas are checked when provledger writes them, so a record of a
 * known kind always has the documented shape; other kinds stay free-form.
 */
import * as z from 'zod';
import type { JsonValue } from '../event/event.js';
import { LedgerError } from '../errors.js';
import { isJsonObject } from './json.js';
import { parseLicense } from './spdx.js';
import { MAX_SAMPLE_LICENSES } from './sample-file.js';

export const ML_KINDS = ['dataset', 'dataset-version', 'sample-set', 'model', 'software', 'config', 'run', 'evaluation', 'context'] as const;
export type MlKind = (typeof ML_KINDS)[number];

export function isMlKind(kind: string): kind is MlKind {
  return (ML_KINDS as readonly string[]).includes(kind);
}

export const RUN_KINDS = ['train', 'evaluate', 'preprocess', 'ingest', 'other'] as const;
export const RUN_STATES = ['RUNNING', 'COMPLETED', 'FAILED'] as const;

const json = z.custom<JsonValue>(() => true);
const text = (max: number) => z.string().min(1).max(max);
const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `must be ${bytes * 2} lower-case hex characters`);
const label = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._\/-]{0,63}$/, 'must be 1–64 characters from A-Z a-z 0-9 . _ / -');
const time = z.int().min(0).max(8.64e15);

/** A set of digests of the same content, by algorithm: `{sha256: hex, sha384: hex, …}`. */
export const digestSet = z
  .strictObject({ sha256: hex(32).optional(), sha384: hex(48).optional(), sha512: hex(64).optional() })
  .refine((d) => Object.keys(d).length > 0, 'must name at least one digest');

/** An SPDX expression (§19.3), or NONE, NOASSERTION or `unknown`. */
export const licenseText = z.string().max(1000).superRefine((value, context) => {
  try {
    parseLicense(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

export const licenseField = z.strictObject({ declared: licenseText.optional(), concluded: licenseText.optional() });

/** One file of a dataset version's manifest. */
export const member = z.strictObject({ path: text(1024), sha256: hex(32), size: z.int().min(0) });

const common = {
  name: text(200),
  description: z.string().max(10_000).optional(),
  uris: z.array(text(2048)).max(100).optional(),
  digest: digestSet.optional(),
  size: z.int().min(0).optional(),
  mediaType: z.string().regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i, 'must be a media type such as application/octet-stream').optional(),
  license: licenseField.optional(),
  labels: z.record(label, z.string().max(256)).optional(),
  properties: z.record(z.string().max(128), json).optional(),
  externalIds: z.record(label, text(512)).optional(),
};

/** Members are listed once each, sorted by the UTF-8 bytes of the path (as `LC_ALL=C sort`), so two manifests of the same files are byte-identical. */
const members = z
  .array(member)
  .max(100_000)
  .refine((list) => list.every((m, i) => i === 0 || Buffer.compare(Buffer.from(list[i - 1]!.path, 'utf8'), Buffer.from(m.path, 'utf8')) < 0), 'members must be sorted by the UTF-8 bytes of their paths, with no path twice');

export const ML_SCHEMAS = {
  dataset: z.strictObject({ ...common, members: members.optional() }),
  'dataset-version': z.strictObject({ ...common, dataset: text(128).optional(), release: text(64), members }),
  'sample-set': z
    .strictObject({
      ...common,
      root: hex(32),
      count: z.int().min(0),
      fingerprint: z.literal('sha256'),
      // SPEC §21.5: how many samples carry each licence, present exactly when the samples carry licences.
      sampleLicenses: z.record(licenseText, z.int().min(1)).optional(),
    })
    .refine((set) => set.sampleLicenses === undefined || (Object.keys(set.sampleLicenses).length <= MAX_SAMPLE_LICENSES && Object.values(set.sampleLicenses).reduce((a, b) => a + b, 0) === set.count), {
      message: `sampleLicenses must count every sample once, with at most ${MAX_SAMPLE_LICENSES} licences`,
      path: ['sampleLicenses'],
    }),
  model: z.strictObject({ ...common, framework: text(64).optional(), architecture: text(200).optional(), members: members.optional() }),
  software: z.strictObject({ ...common, repository: text(2048).optional(), commit: z.string().regex(/^[0-9a-f]{7,64}$/).optional(), members: members.optional() }),
  config: z.strictObject({ ...common, values: z.record(z.string().max(256), json).optional(), members: members.optional() }),
  run: z.strictObject({
    ...common,
    runKind: z.enum(RUN_KINDS),
    state: z.enum(RUN_STATES),
    parameters: z.record(z.string().max(256), json).optional(),
    metrics: z.record(z.string().max(256), z.number()).optional(),
    startedAt: time,
    endedAt: time.optional(),
  }),
  evaluation: z.strictObject({
    ...common,
    metrics: z.record(z.string().max(256), z.number()).optional(),
    thresholds: z.record(z.string().max(256), z.number()).optional(),
    members: members.optional(),
  }),
  context: z.strictObject({ ...common, contextType: z.enum(['experiment', 'project', 'pipeline', 'other']) }),
} as const satisfies Record<MlKind, z.ZodType>;

/**
 * Checks a record body against its kind's schema (kinds outside ML_KINDS pass as they are).
 * @throws LedgerError INVALID_PAYLOAD naming the first problem.
 */
export function assertMlBody(kind: string, data: unknown): void {
  if (!isMlKind(kind)) return;
  if (!isJsonObject(data)) throw new LedgerError('INVALID_PAYLOAD', `a ${kind} record must be a JSON object`);
  const result = ML_SCHEMAS[kind].safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw new LedgerError('INVALID_PAYLOAD', `not a valid ${kind} record${path}: ${issue.message}`, { details: { kind } });
  }
}
