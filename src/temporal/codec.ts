// Encrypts every payload with AES-256-GCM. The key id travels in each payload, so keys can rotate:
// new payloads use the current key, older ones stay readable as long as their key is configured.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** The encoding Temporal's tools (Web UI, CLI) recognise as "encrypted, needs a codec". */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER_NAME = 'AES-256-GCM';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface EncryptionKeys {
  /** New payloads are encrypted with this key. */
  currentKeyId: string;
  /** Every key that may still decrypt, the current one included. */
  keys: Record<string, Uint8Array>;
}

/** A payload that cannot be decrypted: its key is not configured, or the bytes were altered. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

const text = new TextEncoder();
const fromText = new TextDecoder();

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? fromText.decode(value) : undefined;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly currentKeyId: string;

  constructor({ currentKeyId, keys }: EncryptionKeys) {
    this.keys = new Map(Object.entries(keys).map(([id, key]) => [id, Buffer.from(key)]));
    for (const [id, key] of this.keys) {
      if (key.length !== KEY_BYTES) throw new Error(`Encryption key "${id}" is ${key.length} bytes long; AES-256 needs ${KEY_BYTES}`);
    }
    if (!this.keys.has(currentKeyId)) throw new Error(`The current encryption key id "${currentKeyId}" has no key`);
    this.currentKeyId = currentKeyId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const key = this.keys.get(this.currentKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The key id is authenticated too: a payload relabelled with another id fails instead of decrypting wrongly.
    cipher.setAAD(text.encode(this.currentKeyId));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
    return {
      metadata: {
        encoding: text.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: text.encode(this.currentKeyId),
        [CIPHER_METADATA]: text.encode(CIPHER_NAME),
      },
      data: Buffer.concat([iv, encrypted, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    // Payloads written before encryption was switched on stay readable.
    if (metadataText(payload, 'encoding') !== ENCRYPTED_ENCODING) return payload;
    const keyId = metadataText(payload, KEY_ID_METADATA);
    if (!keyId) throw new PayloadDecryptionError(`An encrypted payload carries no ${KEY_ID_METADATA}; it was not written by this codec`);
    const key = this.keys.get(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `A payload is encrypted with key id "${keyId}", which is not configured; add it to PAYLOAD_ENCRYPTION_PREVIOUS_KEYS (configured: ${[...this.keys.keys()].join(', ')})`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`An encrypted payload (key id "${keyId}") is truncated`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(text.encode(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    } catch {
      throw new PayloadDecryptionError(
        `A payload encrypted with key id "${keyId}" failed authentication: the configured key for that id is not the one it was encrypted with, or the payload was altered`,
      );
    }
  }
}
