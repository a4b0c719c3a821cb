import type { Command } from '../command.js';
import { cohortGenerateCommand } from './cohort.js';
import { convertCommand } from './convert.js';
import { infoCommand } from './info.js';
import { demoCommand } from './demo.js';
import { predictCommand } from './predict.js';
import { statsCommand } from './stats.js';
import { studyRunCommand, studyValidateCommand } from './study.js';
import { torchDemoCommand } from './torch-demo.js';
import { trainPmnCommand } from './train-pmn.js';
import { classifyCommand } from './classify.js';
import { evaluatePmnCommand } from './evaluate-pmn.js';
import { segmentCommand } from './segment.js';
import { trainSegCommand } from './train-seg.js';

/**
 * Every `hcc` subcommand, in the order `hcc --help` lists them. Each domain adds its own file under
 * src/cli/commands/ and one line here.
 */
export const commands: Command[] = [convertCommand, infoCommand, cohortGenerateCommand, statsCommand, studyRunCommand, studyValidateCommand, predictCommand, demoCommand, torchDemoCommand, trainSegCommand, segmentCommand, trainPmnCommand, classifyCommand, evaluatePmnCommand];
