"""Offline emulator of the Clarifai V2 API (apps, datasets, inputs, annotations, concepts, search,
models, workflows, modules and runners), served on the emulator's gRPC port."""
