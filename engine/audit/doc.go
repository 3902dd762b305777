// Package audit computes the three hashes that let anyone check a Loom
// generation: model_sha256 (which model), input_sha256 (which prompt and
// options) and logits_sha256 (every logit the model produced on the way).
//
// Loom's CPU engine promises that the same model, input and seed give the
// same tokens and the same logits, bit for bit, on every platform and thread
// count. Two runs whose model and input hashes agree must therefore agree on
// logits_sha256 and on the generated ids; `loom verify` prints all of them
// so that a player, a server or a CI job can compare runs (multiplayer
// lockstep, reproducible replays, bug reports).
//
// Every encoding here is defined byte for byte in the doc comments, so the
// hashes can be recomputed without Loom (see ModelSHA256 for a coreutils
// one-liner).
package audit
