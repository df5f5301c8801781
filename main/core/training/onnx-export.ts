import onnxProto from 'onnx-proto';
import { appError } from '../../../shared/errors.ts';
import type { GbdtModel } from './gbdt.ts';
import type { LogisticModel } from './logistic.ts';

/**
 * Writes trained models as ONNX files that ONNX Runtime runs as they are:
 *
 * - binary GBDT: ai.onnx.ml TreeEnsembleRegressor (SUM, base value = base score) giving the margin
 *   (log-odds), then Sigmoid, Sub, Concat: `probabilities` float [N, 2] = [1 - p, p], `label` int64 [N]
 *   (p > 0.5), and `margin` float [N, 1] (log-odds, the units of the TreeSHAP contributions).
 * - regression GBDT: TreeEnsembleRegressor (SUM, one target). Output `prediction` float [N, 1].
 * - logistic regression: MatMul + Add (weights [F, 2] with a zero column for class 0) + Softmax.
 *   Output `probabilities` float [N, 2].
 *
 * Input `input` float [N, F] (N symbolic). Node covers (training rows per node) go in
 * `nodes_hitrates`, so path-dependent TreeSHAP can be computed from the file alone.
 * No timestamps or host names: the same model gives the same bytes.
 */

const { onnx } = onnxProto;

const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;
const ATTR_STRINGS = 8;
const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;

export const ONNX_INPUT_NAME = 'input';
const encoder = new TextEncoder();

type Attribute = ReturnType<typeof onnx.AttributeProto.create>;

function ints(name: string, values: number[]): Attribute {
  return onnx.AttributeProto.create({ name, type: ATTR_INTS, ints: values });
}
function floats(name: string, values: number[]): Attribute {
  return onnx.AttributeProto.create({ name, type: ATTR_FLOATS, floats: values });
}
function strings(name: string, values: string[]): Attribute {
  return onnx.AttributeProto.create({
    name,
    type: ATTR_STRINGS,
    strings: values.map((v) => encoder.encode(v)),
  });
}
function str(name: string, value: string): Attribute {
  return onnx.AttributeProto.create({ name, type: ATTR_STRING, s: encoder.encode(value) });
}
function int(name: string, value: number): Attribute {
  return onnx.AttributeProto.create({ name, type: ATTR_INT, i: value });
}

function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): ReturnType<typeof onnx.ValueInfoProto.create> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

export interface ExportMeta {
  /** Model name written as the graph name. */
  name: string;
  /** Free-form doc string (e.g. the card's summary). */
  doc?: string;
  /** Extra string metadata (e.g. the label definition). */
  metadata?: Record<string, string>;
}

function encodeModel(
  graph: ReturnType<typeof onnx.GraphProto.create>,
  opsets: { domain: string; version: number }[],
  meta: ExportMeta,
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'vantage-train',
    producerVersion: '1',
    domain: 'app.vantage',
    modelVersion: 1,
    docString: meta.doc ?? '',
    graph,
    opsetImport: opsets,
    metadataProps: Object.entries(meta.metadata ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

interface FlatTrees {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  modes: string[];
  values: number[];
  trueIds: number[];
  falseIds: number[];
  hitrates: number[];
  leafTree: number[];
  leafNode: number[];
  leafWeight: number[];
}

function flatten(model: GbdtModel): FlatTrees {
  const out: FlatTrees = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    modes: [],
    values: [],
    trueIds: [],
    falseIds: [],
    hitrates: [],
    leafTree: [],
    leafNode: [],
    leafWeight: [],
  };
  model.trees.forEach((tree, t) => {
    tree.nodes.forEach((node, k) => {
      const leaf = node.feature < 0;
      out.treeIds.push(t);
      out.nodeIds.push(k);
      out.featureIds.push(leaf ? 0 : node.feature);
      out.modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      out.values.push(leaf ? 0 : node.threshold);
      out.trueIds.push(leaf ? 0 : node.left);
      out.falseIds.push(leaf ? 0 : node.right);
      out.hitrates.push(node.cover);
      if (leaf) {
        out.leafTree.push(t);
        out.leafNode.push(k);
        out.leafWeight.push(node.value);
      }
    });
  });
  return out;
}

export function exportGbdtOnnx(model: GbdtModel, meta: ExportMeta): Uint8Array {
  const F = model.featureCount;
  const flat = flatten(model);
  const nodeAttrs = [
    ints('nodes_treeids', flat.treeIds),
    ints('nodes_nodeids', flat.nodeIds),
    ints('nodes_featureids', flat.featureIds),
    strings('nodes_modes', flat.modes),
    floats('nodes_values', flat.values),
    ints('nodes_truenodeids', flat.trueIds),
    ints('nodes_falsenodeids', flat.falseIds),
    floats('nodes_hitrates', flat.hitrates),
  ];
  // Both objectives use TreeEnsembleRegressor for the margin: with onnxruntime-node 1.30 the
  // TreeEnsembleClassifier layouts we tried returned only their base values, while the regressor with
  // the same nodes gives exact leaf sums (see docs/training.md). Standard ops turn it into probabilities.
  const trees = onnx.NodeProto.create({
    name: 'trees',
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    input: [ONNX_INPUT_NAME],
    output: [model.objective === 'binary' ? 'margin' : 'prediction'],
    attribute: [
      ...nodeAttrs,
      int('n_targets', 1),
      ints('target_treeids', flat.leafTree),
      ints('target_nodeids', flat.leafNode),
      ints(
        'target_ids',
        flat.leafTree.map(() => 0),
      ),
      floats('target_weights', flat.leafWeight),
      floats('base_values', [model.baseScore]),
      str('aggregate_function', 'SUM'),
      str('post_transform', 'NONE'),
    ],
  });
  const nodes = [trees];
  const initializer: ReturnType<typeof onnx.TensorProto.create>[] = [];
  let outputs: ReturnType<typeof onnx.ValueInfoProto.create>[];
  if (model.objective === 'binary') {
    // probabilities = [1 - sigmoid(margin), sigmoid(margin)], label = (sigmoid(margin) > 0.5) as int64 [N].
    nodes.push(
      onnx.NodeProto.create({ name: 'sigmoid', opType: 'Sigmoid', input: ['margin'], output: ['p1'] }),
      onnx.NodeProto.create({ name: 'complement', opType: 'Sub', input: ['one', 'p1'], output: ['p0'] }),
      onnx.NodeProto.create({
        name: 'concat',
        opType: 'Concat',
        input: ['p0', 'p1'],
        output: ['probabilities'],
        attribute: [int('axis', 1)],
      }),
      onnx.NodeProto.create({ name: 'decide', opType: 'Greater', input: ['p1', 'half'], output: ['above'] }),
      onnx.NodeProto.create({
        name: 'cast',
        opType: 'Cast',
        input: ['above'],
        output: ['label2d'],
        attribute: [int('to', TENSOR_INT64)],
      }),
      onnx.NodeProto.create({
        name: 'flatten',
        opType: 'Reshape',
        input: ['label2d', 'label_shape'],
        output: ['label'],
      }),
    );
    initializer.push(
      onnx.TensorProto.create({ name: 'one', dataType: TENSOR_FLOAT, dims: [1], floatData: [1] }),
      onnx.TensorProto.create({ name: 'half', dataType: TENSOR_FLOAT, dims: [1], floatData: [0.5] }),
      onnx.TensorProto.create({ name: 'label_shape', dataType: TENSOR_INT64, dims: [1], int64Data: [-1] }),
    );
    outputs = [
      valueInfo('label', TENSOR_INT64, ['N']),
      valueInfo('probabilities', TENSOR_FLOAT, ['N', 2]),
      valueInfo('margin', TENSOR_FLOAT, ['N', 1]),
    ];
  } else {
    outputs = [valueInfo('prediction', TENSOR_FLOAT, ['N', 1])];
  }
  const graph = onnx.GraphProto.create({
    name: meta.name,
    node: nodes,
    initializer,
    input: [valueInfo(ONNX_INPUT_NAME, TENSOR_FLOAT, ['N', F])],
    output: outputs,
  });
  return encodeModel(
    graph,
    [
      { domain: '', version: 13 },
      { domain: 'ai.onnx.ml', version: 1 },
    ],
    meta,
  );
}

export function exportLogisticOnnx(model: LogisticModel, meta: ExportMeta): Uint8Array {
  const F = model.featureCount;
  // Column 0 (class 0) all zeros, column 1 the weights: softmax([0, w.x + b]) = [1 - p, p].
  const w: number[] = [];
  for (let f = 0; f < F; f++) w.push(0, model.weights[f]!);
  const graph = onnx.GraphProto.create({
    name: meta.name,
    node: [
      onnx.NodeProto.create({
        name: 'matmul',
        opType: 'MatMul',
        input: [ONNX_INPUT_NAME, 'weights'],
        output: ['scores'],
      }),
      onnx.NodeProto.create({
        name: 'bias',
        opType: 'Add',
        input: ['scores', 'intercept'],
        output: ['logits'],
      }),
      onnx.NodeProto.create({
        name: 'softmax',
        opType: 'Softmax',
        input: ['logits'],
        output: ['probabilities'],
        attribute: [int('axis', 1)],
      }),
    ],
    initializer: [
      onnx.TensorProto.create({ name: 'weights', dataType: TENSOR_FLOAT, dims: [F, 2], floatData: w }),
      onnx.TensorProto.create({
        name: 'intercept',
        dataType: TENSOR_FLOAT,
        dims: [2],
        floatData: [0, model.intercept],
      }),
    ],
    input: [valueInfo(ONNX_INPUT_NAME, TENSOR_FLOAT, ['N', F])],
    output: [valueInfo('probabilities', TENSOR_FLOAT, ['N', 2])],
  });
  return encodeModel(graph, [{ domain: '', version: 13 }], meta);
}

/** Reads back the leaf covers stored in nodes_hitrates of a tree-ensemble ONNX file (for explanations from the file alone). */
export function readTreeCovers(bytes: Uint8Array): number[] {
  const model = onnx.ModelProto.decode(bytes);
  const node = model.graph?.node?.find((n) => n.opType === 'TreeEnsembleRegressor');
  const attr = node?.attribute?.find((a) => a.name === 'nodes_hitrates');
  return attr?.floats ? Array.from(attr.floats) : [];
}

/**
 * Rebuilds the trainer's trees from a tree-ensemble ONNX file written by exportGbdtOnnx (thresholds,
 * leaf values, covers from nodes_hitrates), so explanations (treeShap) can be computed from the file
 * alone. MODEL_INVALID if the file is not such an ensemble or lacks covers.
 */
export function readGbdtFromOnnx(bytes: Uint8Array): GbdtModel {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw appError('MODEL_INVALID', `not an ONNX model: ${(error as Error).message}`);
  }
  const graph = model.graph;
  const node = graph?.node?.find((n) => n.opType === 'TreeEnsembleRegressor');
  if (!graph || !node) throw appError('MODEL_INVALID', 'the model has no TreeEnsembleRegressor node');
  const attr = (name: string): onnxProto.onnx.IAttributeProto | undefined =>
    node.attribute?.find((a) => a.name === name);
  const intsOf = (name: string): number[] => (attr(name)?.ints ?? []).map((v) => Number(v));
  const floatsOf = (name: string): number[] => Array.from(attr(name)?.floats ?? []);
  const treeIds = intsOf('nodes_treeids');
  const nodeIds = intsOf('nodes_nodeids');
  const featureIds = intsOf('nodes_featureids');
  const modes = (attr('nodes_modes')?.strings ?? []).map((s) => new TextDecoder().decode(s));
  const values = floatsOf('nodes_values');
  const trueIds = intsOf('nodes_truenodeids');
  const falseIds = intsOf('nodes_falsenodeids');
  const covers = floatsOf('nodes_hitrates');
  if (covers.length !== treeIds.length)
    throw appError(
      'MODEL_INVALID',
      'the tree ensemble has no node covers (nodes_hitrates); explanations need them',
    );
  const trees: GbdtModel['trees'] = [];
  for (let i = 0; i < treeIds.length; i++) {
    const t = treeIds[i]!;
    while (trees.length <= t) trees.push({ nodes: [] });
    const leaf = modes[i] === 'LEAF';
    trees[t]!.nodes[nodeIds[i]!] = {
      feature: leaf ? -1 : featureIds[i]!,
      threshold: leaf ? 0 : values[i]!,
      left: leaf ? -1 : trueIds[i]!,
      right: leaf ? -1 : falseIds[i]!,
      value: 0,
      cover: covers[i]!,
      gain: 0,
    };
  }
  const leafTrees = intsOf('target_treeids');
  const leafNodes = intsOf('target_nodeids');
  const weights = floatsOf('target_weights');
  for (let i = 0; i < leafTrees.length; i++) {
    const n = trees[leafTrees[i]!]?.nodes[leafNodes[i]!];
    if (!n)
      throw appError(
        'MODEL_INVALID',
        `leaf weight for a missing node (tree ${leafTrees[i]}, node ${leafNodes[i]})`,
      );
    n.value += weights[i]!;
  }
  const input = graph.input?.[0]?.type?.tensorType?.shape?.dim?.[1]?.dimValue;
  const featureCount = input === undefined || input === null ? Math.max(0, ...featureIds) + 1 : Number(input);
  const binary = graph.node?.some((n) => n.opType === 'Sigmoid') ?? false;
  return {
    kind: 'gbdt',
    objective: binary ? 'binary' : 'regression',
    featureCount,
    baseScore: floatsOf('base_values')[0] ?? 0,
    trees,
    validationLoss: [],
    bestIteration: trees.length,
    treesGrown: trees.length,
  };
}
