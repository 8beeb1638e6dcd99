// The data converter shared by the client, the workers and the bridge: the same codec on every side.
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { AesGcmPayloadCodec } from './codec';

/** Path for the worker and client options; the workflow bundle can take it too (bundleWorkflowCode's failureConverterPath). */
export const ENCODED_FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** Undefined without PAYLOAD_ENCRYPTION_KEY: the SDK's default converter, payloads in plain JSON. */
export function createDataConverter(config: Partial<Pick<Config, 'payloadEncryption'>>): DataConverter | undefined {
  if (!config.payloadEncryption) return undefined;
  return {
    payloadCodecs: [new AesGcmPayloadCodec(config.payloadEncryption)],
    failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH,
  };
}
