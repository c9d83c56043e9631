import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startKubeEnv, type KubeEnv } from './kube-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    kubeBinDir: string;
    kubeServer: string;
    kubeEnvDir: string;
    /** POST `${kubeControlUrl}/restart-apiserver` restarts the shared kube-apiserver (etcd keeps the data). */
    kubeControlUrl: string;
  }
}

/** One real kube-apiserver + etcd, with the CRDs installed, shared by every file of a test project. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const env = await startKubeEnv({ installCrds: true });
  const control = await startControlServer(env);
  project.provide('kubeconfigPath', env.kubeconfigPath);
  project.provide('kubeBinDir', env.binDir);
  project.provide('kubeServer', env.server);
  project.provide('kubeEnvDir', env.dir);
  project.provide('kubeControlUrl', control.url);
  return async () => {
    await control.close();
    await env.stop();
  };
}

/**
 * The apiserver runs in this (the runner's) process, so a test file that restarts it, as a fault,
 * asks over loopback HTTP. The answer comes once the apiserver serves again.
 */
async function startControlServer(env: KubeEnv): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/restart-apiserver') {
      res.writeHead(404).end();
      return;
    }
    env.restartApiserver().then(
      () => res.writeHead(204).end(),
      (err: unknown) => res.writeHead(500).end(err instanceof Error ? err.message : String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
