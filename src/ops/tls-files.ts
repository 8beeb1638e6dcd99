// Reads the certificate and key files named by configuration; an error names the variable and the file, never the content.
import { readFileSync } from 'node:fs';

export class TlsFileError extends Error {
  override name = 'TlsFileError';
}

export function readTlsFile(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new TlsFileError(`${variable}: cannot read ${file} (${code})`);
  }
}

export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/** Node's TLS options (`ca`, `cert`, `key`) from the files of one connection, for amqplib and similar clients. */
export function tlsSocketOptions(prefix: string, files: TlsFiles | undefined): { ca?: Buffer[]; cert?: Buffer; key?: Buffer } {
  if (!files) return {};
  return {
    ...(files.caFile ? { ca: [readTlsFile(`${prefix}_CA_FILE`, files.caFile)] } : {}),
    ...(files.certFile ? { cert: readTlsFile(`${prefix}_CERT_FILE`, files.certFile) } : {}),
    ...(files.keyFile ? { key: readTlsFile(`${prefix}_KEY_FILE`, files.keyFile) } : {}),
  };
}
