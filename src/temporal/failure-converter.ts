// A failure's message and stack trace can quote what a provider said about a recipient ("550 <address>:
// mailbox unavailable"). With encryption on, they travel as an encoded payload that the codec encrypts.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
