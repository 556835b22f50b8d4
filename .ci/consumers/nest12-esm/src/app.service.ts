import { Injectable } from '@nestjs/common';
import { FeatureFlagsService, type EvaluationDetails } from 'nestjs-feature-flags';

@Injectable()
export class AppService {
  constructor(private readonly flags: FeatureFlagsService) {}

  /** Evaluated in the current request's environment (none is passed). */
  flag(key: string): { enabled: boolean; details: EvaluationDetails } {
    return { enabled: this.flags.isEnabled(key), details: this.flags.evaluate(key) };
  }
}
