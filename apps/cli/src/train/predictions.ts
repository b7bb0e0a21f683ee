import type { DataSet } from "@backprop/datasets";
import { encodeBase64 } from "../base64.ts";
import type { Evaluation } from "./evaluate.ts";

interface Sample {
  index: number;
  label: number;
  predicted: number;
  confidence: number;
  image: string;
}

/** predictions.json (docs/RUN_RECORDS.md): confusion matrix, per-class accuracy, sample and worst-mistake images. */
export function buildPredictions(test: DataSet, ev: Evaluation, samples = 32, worst = 16) {
  const k = test.classNames.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const predicted = ev.predicted!, confidence = ev.confidence!;
  const n = ev.count;
  for (let i = 0; i < n; i++) confusion[test.label(i)]![predicted[i]!]!++;
  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total ? row[c]! / total : 0;
  });
  const sample = (i: number): Sample => ({
    index: i,
    label: test.label(i),
    predicted: predicted[i]!,
    confidence: confidence[i]!,
    image: encodeBase64(test.image(i)),
  });
  const mistakes = [...Array(n).keys()]
    .filter((i) => predicted[i] !== test.label(i))
    .sort((a, b) => confidence[b]! - confidence[a]!)
    .slice(0, worst);
  return {
    classes: [...test.classNames],
    confusion,
    per_class_accuracy: perClass,
    samples: [...Array(Math.min(samples, n)).keys()].map(sample),
    worst: mistakes.map(sample),
  };
}
