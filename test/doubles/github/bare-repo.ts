import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolatedGitEnv, runGit } from '../../../libs/github/src/git';

export interface BareRepo {
  /** Path of the bare repository (`<dir>/<owner>/<repo>.git`). */
  path: string;
  /** The first commit. */
  commit: string;
  /** Commits `files` (added or overwritten, others kept) on top of the branch head; returns the new commit. */
  commitFiles(files: Record<string, string>, message: string): Promise<string>;
}

/**
 * A bare repository `<dir>/<owner>/<repo>.git` whose `branch` holds one commit of `files`, built with git's
 * plumbing (no working tree), laid out the way startGitHubStub serves repositories.
 */
export async function createBareRepo(dir: string, fullName: string, files: Record<string, string>, branch = 'main'): Promise<BareRepo> {
  const [owner, repo, ...rest] = fullName.split('/');
  if (!owner || !repo || rest.length > 0) throw new Error(`Repository name must be "owner/repo", got "${fullName}"`);
  const path = join(dir, owner, `${repo}.git`);
  await mkdir(path, { recursive: true });
  // GIT_CONFIG_GLOBAL=/dev/null makes HOME irrelevant to git; it only has to be somewhere harmless.
  const env = {
    ...isolatedGitEnv(dir),
    GIT_AUTHOR_NAME: 'Mona Lisa',
    GIT_AUTHOR_EMAIL: 'mona@example.com',
    GIT_COMMITTER_NAME: 'Mona Lisa',
    GIT_COMMITTER_EMAIL: 'mona@example.com',
  };
  const git = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string): Promise<string> => {
    const result = await runGit(['--git-dir', path, ...args], { env: { ...env, ...extraEnv }, input });
    if (result.code !== 0) throw new Error(`git ${args[0]} in ${path} failed: ${result.stderr.trim()}`);
    return result.stdout.trim();
  };

  await git(['init', '--bare', '-q', `--initial-branch=${branch}`]);
  // Builds fetch exact commits (`git fetch origin <sha>`), which upload-pack refuses unless told otherwise.
  await git(['config', 'uploadpack.allowAnySHA1InWant', 'true']);
  await git(['config', 'uploadpack.allowReachableSHA1InWant', 'true']);

  let head: string | undefined;
  const commitFiles = async (changes: Record<string, string>, message: string): Promise<string> => {
    const indexDir = await mkdtemp(join(tmpdir(), 'apprunner-bare-index-'));
    try {
      const index = { GIT_INDEX_FILE: join(indexDir, 'index') };
      if (head) await git(['read-tree', head], index);
      for (const [file, content] of Object.entries(changes)) {
        const blob = await git(['hash-object', '-w', '--stdin'], {}, content);
        await git(['update-index', '--add', '--cacheinfo', `100644,${blob},${file}`], index);
      }
      const tree = await git(['write-tree'], index);
      const commit = await git(['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message]);
      await git(['update-ref', `refs/heads/${branch}`, commit, ...(head ? [head] : [])]);
      head = commit;
      return commit;
    } finally {
      await rm(indexDir, { recursive: true, force: true });
    }
  };

  const commit = await commitFiles(files, 'Initial commit');
  return { path, commit, commitFiles };
}
