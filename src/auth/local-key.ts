/**
 * The signing key of a stand-alone installation: an ES256 (P-256) key pair created in DATA_DIR on
 * first start, so `npm start` works with no identity provider. `reload-task token` signs with the
 * private key; the server verifies with its public half. Only the private key is stored (the public
 * key derives from it), with user-only permissions.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCAL_KEY_FILE = 'signing-key.pem';

export interface LocalKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly path: string;
}

/** Loads the key from `dataDir`, creating it first if there is none. */
export function loadOrCreateLocalKey(dataDir: string): LocalKey {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCAL_KEY_FILE);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const created = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      // 'wx': if another process created it meanwhile, keep theirs.
      writeFileSync(path, created, { mode: 0o600, flag: 'wx' });
      pem = created;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      pem = readFileSync(path, 'utf8');
    }
  }
  const privateKey = createPrivateKey(pem);
  return { privateKey, publicKey: createPublicKey(privateKey), path };
}
