/*
 * fuzz_handshake_responder.c: libFuzzer target for the responder side of
 * the daemon's Noise XXpsk3 handshake (crypto/tb_noise.h): the input is the
 * initiator's messages 1 and 3, raw or from an honest initiator with chosen
 * keys, payloads and tampering (fuzz_hs.h describes the input).
 */
#include "fuzz_hs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_hs_one(data, size, true);
}
