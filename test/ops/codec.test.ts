import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadDecryptionError } from '../../src/temporal/codec';

const recipient = { email: 'ada.lovelace@example.org', name: 'Ada Lovelace', campaignId: 'c-1' };
const encoded = defaultPayloadConverter.toPayload(recipient);

function text(bytes: Uint8Array | null | undefined): string {
  return Buffer.from(bytes ?? new Uint8Array()).toString('latin1');
}

describe('payload codec (AES-256-GCM)', () => {
  const january = randomBytes(32);
  const february = randomBytes(32);

  it('round-trips a payload and leaves no plain text in the encrypted bytes', async () => {
    const codec = new AesGcmPayloadCodec({ currentKeyId: '2024-01', keys: { '2024-01': january } });
    const [encrypted] = await codec.encode([encoded]);
    assert.equal(text(encrypted!.metadata!.encoding), ENCRYPTED_ENCODING);
    assert.equal(text(encrypted!.metadata![KEY_ID_METADATA]), '2024-01');
    assert.doesNotMatch(text(encrypted!.data), /ada|lovelace|example\.org/i);
    const [decrypted] = await codec.decode([encrypted!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decrypted!), recipient);
  });

  it('uses a fresh IV each time, so equal inputs do not give equal ciphertexts', async () => {
    const codec = new AesGcmPayloadCodec({ currentKeyId: 'k', keys: { k: january } });
    const [first, second] = await codec.encode([encoded, encoded]);
    assert.notDeepEqual(Buffer.from(first!.data!), Buffer.from(second!.data!));
  });

  it('still decodes payloads of a rotated-out key, and encrypts new ones with the current key', async () => {
    const before = new AesGcmPayloadCodec({ currentKeyId: '2024-01', keys: { '2024-01': january } });
    const [old] = await before.encode([encoded]);
    const after = new AesGcmPayloadCodec({ currentKeyId: '2024-02', keys: { '2024-01': january, '2024-02': february } });
    assert.deepEqual(defaultPayloadConverter.fromPayload((await after.decode([old!]))[0]!), recipient);
    const [fresh] = await after.encode([encoded]);
    assert.equal(text(fresh!.metadata![KEY_ID_METADATA]), '2024-02');
    // Once the old key is dropped, its payloads are refused loudly, naming the missing key id.
    const withoutOld = new AesGcmPayloadCodec({ currentKeyId: '2024-02', keys: { '2024-02': february } });
    await assert.rejects(withoutOld.decode([old!]), (error: Error) => {
      assert.ok(error instanceof PayloadDecryptionError);
      assert.match(error.message, /key id "2024-01", which is not configured/);
      assert.match(error.message, /PAYLOAD_ENCRYPTION_PREVIOUS_KEYS/);
      return true;
    });
  });

  it('fails loudly with a wrong key under the same id, without echoing key material', async () => {
    const writer = new AesGcmPayloadCodec({ currentKeyId: 'k', keys: { k: january } });
    const reader = new AesGcmPayloadCodec({ currentKeyId: 'k', keys: { k: february } });
    const [encrypted] = await writer.encode([encoded]);
    await assert.rejects(reader.decode([encrypted!]), (error: Error) => {
      assert.ok(error instanceof PayloadDecryptionError);
      assert.match(error.message, /key id "k" failed authentication/);
      assert.ok(!error.message.includes(february.toString('base64')));
      assert.ok(!error.message.includes(january.toString('base64')));
      return true;
    });
  });

  it('refuses a payload whose bytes or key id were altered', async () => {
    const codec = new AesGcmPayloadCodec({ currentKeyId: 'a', keys: { a: january, b: january } });
    const [encrypted] = await codec.encode([encoded]);
    const flipped = Buffer.from(encrypted!.data!);
    flipped[20] = flipped[20]! ^ 0xff;
    await assert.rejects(codec.decode([{ ...encrypted!, data: flipped }]), PayloadDecryptionError);
    // Same key bytes under another id: the id is authenticated, so relabelling is detected.
    const relabelled: Payload = { ...encrypted!, metadata: { ...encrypted!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
    await assert.rejects(codec.decode([relabelled]), PayloadDecryptionError);
    const truncated: Payload = { ...encrypted!, data: Buffer.from(encrypted!.data!).subarray(0, 10) };
    await assert.rejects(codec.decode([truncated]), /truncated/);
  });

  it('passes payloads written before encryption was switched on through unchanged', async () => {
    const codec = new AesGcmPayloadCodec({ currentKeyId: 'k', keys: { k: january } });
    const [decoded] = await codec.decode([encoded]);
    assert.deepEqual(decoded, encoded);
  });

  it('rejects a key of the wrong size and a current id without a key at construction', () => {
    assert.throws(() => new AesGcmPayloadCodec({ currentKeyId: 'k', keys: { k: randomBytes(16) } }), /16 bytes long; AES-256 needs 32/);
    assert.throws(() => new AesGcmPayloadCodec({ currentKeyId: 'missing', keys: { k: january } }), /"missing" has no key/);
  });
});
