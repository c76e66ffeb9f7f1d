import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { parseKeySpec } from './secretBox';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

/**
 * The only payload the Temporal server writes itself into a calsync history: the details of an
 * activity cancelled before it started (`payloads.EncodeString("ACTIVITY_ID_NOT_STARTED")` in the
 * server's workflow_task_completed_handler.go). A newer revision cancels pushes waiting for their
 * next attempt, so the workflow must read it; it carries nothing a forger could use.
 */
const SERVER_WRITTEN_JSON = '"ACTIVITY_ID_NOT_STARTED"';
const isServerWritten = (payload: Payload, encoding: string | undefined) =>
  encoding === 'json/plain' &&
  text(payload.data) === SERVER_WRITTEN_JSON &&
  Object.keys(payload.metadata ?? {}).length === 1;

/**
 * Encrypts every workflow payload (signal, activity and query arguments and results) with
 * AES-256-GCM, so client names, e-mails and descriptions are never stored in plain text in Temporal.
 * The whole original Payload proto is sealed, its metadata included; the key id travels in the
 * outer metadata, so keys rotate: the first key encrypts, all of them decrypt.
 * Data layout: iv (12 bytes) | ciphertext | GCM tag (16 bytes); the key id is authenticated too.
 */
export class PayloadEncryptionCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;
  private readonly currentKeyId: string;

  constructor(
    keySpec: string,
    /** Let unencrypted payloads through: only to read data written before encryption (CALSYNC_ACCEPT_PLAINTEXT_PAYLOADS). */
    private readonly acceptPlaintext = false,
  ) {
    const parsed = parseKeySpec(keySpec, 'CALSYNC_PAYLOAD_KEYS');
    this.keys = parsed.keys;
    this.currentKeyId = parsed.currentKeyId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload));
  }

  seal(payload: Payload): Payload {
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(utf8(this.currentKeyId));
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.currentKeyId) },
      data: new Uint8Array(data),
    };
  }

  /**
   * Every payload calsync writes is encrypted, so a plain one was written by someone else (a forged
   * signal from whoever reaches the Temporal frontend): refused, unless the escape hatch for data
   * from before encryption is set.
   */
  open(payload: Payload): Payload {
    const encoding = text(payload.metadata?.encoding);
    if (encoding !== ENCRYPTED_ENCODING) {
      if (this.acceptPlaintext || isServerWritten(payload, encoding)) return payload;
      throw new PlaintextPayloadRefused(encoding);
    }
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (!key) throw new Error(`cannot decrypt payload: unknown encryption key "${keyId ?? '?'}"`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error('cannot decrypt payload: too short');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(utf8(keyId!));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** An unencrypted payload where calsync writes only encrypted ones. */
export class PlaintextPayloadRefused extends Error {
  constructor(encoding: string | undefined) {
    super(
      `refused an unencrypted workflow payload (encoding ${encoding ?? 'none'}): calsync encrypts every payload, so this one ` +
        'was not written by calsync. Set CALSYNC_ACCEPT_PLAINTEXT_PAYLOADS=true only to read data from before encryption.',
    );
    this.name = 'PlaintextPayloadRefused';
  }
}

/** The data converter every calsync Temporal client and worker uses. */
export function calsyncDataConverter(payloadKeys: string, acceptPlaintext = false) {
  return { payloadCodecs: [new PayloadEncryptionCodec(payloadKeys, acceptPlaintext)] };
}
