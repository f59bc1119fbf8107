/**
 * Fine-tuning the sentence encoder on a catalogue's own pairs: training pairs from labelled files
 * ({@link dev.itemsim.finetune.TrainingPairs}) or co-engagement events ({@link dev.itemsim.finetune.CoEngagement}),
 * batches that never set an item against its partners, and the procedure around the trainer
 * ({@link dev.itemsim.finetune.FineTuning}: validation split, hard negatives through itemsim's top-N, per-epoch
 * evaluation with the evaluate job's metrics, early stop, {@code training.json}). The model and its gradients
 * live in {@code embed} ({@link dev.itemsim.embed.ContrastiveTrainer}); this package knows nothing of jobs.
 */
package dev.itemsim.finetune;
