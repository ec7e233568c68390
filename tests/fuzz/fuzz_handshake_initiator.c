/*
 * fuzz_handshake_initiator.c: libFuzzer target for the initiator side of
 * the daemon's Noise XXpsk3 handshake (crypto/tb_noise.h): after sending a
 * fixed message 1, the input is the responder's message 2, raw or from an
 * honest responder with chosen keys, payload and tampering (fuzz_hs.h
 * describes the input).
 */
#include "fuzz_hs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_hs_one(data, size, false);
}
