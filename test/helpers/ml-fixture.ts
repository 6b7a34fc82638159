/**
 * The ML fixture of ml.test.ts (library) and ml-cli.test.ts (CLI): the same files and the same 16 events, written
 * by whichever Ledger the test opened (src/ or dist/), with the `digestPaths` of the same build.
 */
import { join } from 'node:path';

/** The files of the fixture, by path under the files directory. */
export const FILES: Record<string, string> = {
  'mnist/train-images.idx': 'train images\n',
  'mnist/train-labels.idx': 'train labels\n',
  'mnist/t10k-images.idx': 'test images\n',
  'mnist/t10k-labels.idx': '',
  'cifar.bin': 'cifar-10 bytes',
  'base.pt': 'base weights',
  'resnet.pt': 'resnet weights',
  'train.py': 'print("train")\n',
  'cfg.yaml': 'lr: 0.0003\n',
  'gone.csv': 'a,b\n',
};

/** The inputs of run train-1. */
export const TRAIN_1_INPUTS = [
  { id: 'mnist', role: 'train', split: 'train' },
  { id: 'cifar', role: 'validation' },
  { id: 'base', role: 'base-model' },
  { id: 'train.py', role: 'code' },
  { id: 'cfg', role: 'config' },
] as const;

/** What the fixture uses of a Ledger (of src/ or dist/). */
interface MlLedger<C> {
  artifacts: { add(input: { kind: 'dataset' | 'model' | 'software' | 'config'; name: string; license: string | undefined; content: C }): Promise<unknown> };
  records: { delete(id: string): Promise<unknown> };
  runs: {
    start(input: { kind: 'train' | 'evaluate'; name: string; id: string; inputs?: typeof TRAIN_1_INPUTS; parameters?: Record<string, number> }): Promise<unknown>;
    finish(id: string, input: { status: 'completed' }): Promise<unknown>;
  };
}

/**
 * Writes events 1–16 (see the header of ml.test.ts) to the open `ledger`: the artifacts hashed from `files`
 * (written from FILES), gone deleted, train-1 started, old-run started and finished.
 */
export async function writeMlFixture<C>(ledger: MlLedger<C>, files: string, digestPaths: (paths: string[]) => Promise<C>): Promise<void> {
  const add = async (kind: 'dataset' | 'model' | 'software' | 'config', name: string, path: string, license?: string) =>
    ledger.artifacts.add({ kind, name, license, content: await digestPaths([join(files, path)]) });
  await add('dataset', 'mnist', 'mnist', 'CC-BY-SA-3.0');
  await add('dataset', 'cifar', 'cifar.bin', 'MIT');
  await add('model', 'base', 'base.pt');
  await add('model', 'resnet', 'resnet.pt');
  await add('software', 'train.py', 'train.py');
  await add('config', 'cfg', 'cfg.yaml');
  await add('dataset', 'gone', 'gone.csv');
  await ledger.records.delete('gone');
  await ledger.runs.start({ kind: 'train', name: 'train resnet', id: 'train-1', inputs: TRAIN_1_INPUTS, parameters: { lr: 0.0003 } });
  await ledger.runs.start({ kind: 'evaluate', name: 'an old run', id: 'old-run' });
  await ledger.runs.finish('old-run', { status: 'completed' });
}
