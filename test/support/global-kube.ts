import type { TestProject } from 'vitest/node';
import { startKubeEnv } from './kube-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    kubeBinDir: string;
    kubeServer: string;
    kubeEnvDir: string;
  }
}

/** One real kube-apiserver + etcd, with the CRDs installed, shared by every file of a test project. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = await startKubeEnv({ installCrds: true });
  project.provide('kubeconfigPath', env.kubeconfigPath);
  project.provide('kubeBinDir', env.binDir);
  project.provide('kubeServer', env.server);
  project.provide('kubeEnvDir', env.dir);
  return () => env.stop();
}
