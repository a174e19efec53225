import { segmenterContract } from '../../../test/contracts/segmenter.contract.ts';
import { createClassicalLungSegmenter } from './lung-segmenter.ts';

segmenterContract('classical lung segmenter', () => Promise.resolve(createClassicalLungSegmenter()), { minDice: 0.95 });
