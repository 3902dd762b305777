// Package train trains Llama-family causal language models (the
// architectures engine/model runs: LlamaForCausalLM, Qwen2ForCausalLM,
// MistralForCausalLM) on the CPU, deterministically, and saves them in the
// Hugging Face layout that engine/model, transformers and llama.cpp load.
//
// Model holds every parameter in float32 as an nn.Param named like its
// checkpoint tensor. Model.Gradients runs the forward pass over a batch of
// sequences, keeping the activations, then the backward pass by hand (no
// autograd) and adds the gradient of the mean next-token cross-entropy
// (nn.CrossEntropy) to every parameter. The forward pass performs exactly
// the operations of engine/model's Forward, in the same order, so a trained
// model's logits here and after loading it for inference are the same bits.
//
// Determinism: every linear layer, forward and backward, is a
// kernels.MatMul, so each output element is one canonical dot product
// whatever the thread count (the backward products run on transposed
// copies: dX = dY·W is MatMul with Wᵀ, dW = dYᵀ·X is MatMul with Xᵀ as the
// matrix and the rows of dYᵀ as vectors). Attention runs one goroutine per
// (sequence, key/value head), which owns every gradient element it writes;
// every other sum (RMSNorm weight gradients, embedding rows, biases) runs
// over tokens in increasing order on one goroutine. Products are rounded
// explicitly (float32(a*b)) and exponentials come from kernels.Exp. Two
// runs with the same seed give the same bits, on any number of threads.
//
// Trainer adds what a training run needs around that: an AdamW optimiser
// (nn.AdamW's update rule, with state that checkpoints can hold), gradient
// clipping (nn.ClipGradNorm), a warmup-plus-cosine learning-rate schedule,
// seeded batch order, validation loss, checkpoints from which a run resumes
// bit for bit, and export to model.safetensors, config.json and friends.
package train
