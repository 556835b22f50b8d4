import { ArgumentMetadata, BadRequestException, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { FeatureFlagsConfigurationError } from '../../core/errors';
import { missingAdminPackages } from '../optional-packages';
import { inputProblem } from './admin-input-limits';

/** One invalid field: its path (`rules[0].conditions[1].operator`) and what is wrong with it. */
export interface FieldProblem {
  field: string;
  problems: string[];
}

/** Flattens class-validator's tree of errors into field paths. */
export function fieldProblems(errors: ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const error of errors) {
    const field = /^\d+$/.test(error.property)
      ? `${parent}[${error.property}]`
      : parent
        ? `${parent}.${error.property}`
        : error.property;
    const constraints = Object.entries(error.constraints ?? {});
    if (constraints.length > 0) {
      out.push({
        field,
        problems: constraints.map(([name, message]) =>
          name === 'whitelistValidation'
            ? 'is not an accepted field'
            : message.startsWith(`${error.property} `)
              ? message.slice(error.property.length + 1)
              : message,
        ),
      });
    }
    if (error.children?.length) out.push(...fieldProblems(error.children, field));
  }
  return out;
}

/** The 400 answer to invalid input: the first field in `field`/`message`, every one in `errors`. */
export function validationFailed(problems: FieldProblem[]): BadRequestException {
  const first = problems[0] ?? { field: 'body', problems: ['is invalid'] };
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    code: 'VALIDATION_FAILED',
    message: problems.map((p) => `${p.field}: ${p.problems.join('; ')}`).join('. '),
    field: first.field,
    problem: first.problems.join('; '),
    errors: problems,
  });
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The admin routes' ValidationPipe: whitelisting (an unknown field is a 400 naming it), no implicit type
 * conversion in bodies, and errors that name the field. Scoped to the admin controllers: the host app's
 * own pipes are left alone.
 */
@Injectable()
export class AdminValidationPipe extends ValidationPipe {
  constructor() {
    const missing = missingAdminPackages();
    if (missing.length > 0)
      throw new FeatureFlagsConfigurationError(
        'FeatureFlagsAdminModule',
        `needs ${missing.join(' and ')}: npm install ${missing.join(' ')}`,
      );
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => validationFailed(fieldProblems(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && this.toValidate(metadata) && !isPlainObject(value)) {
      throw validationFailed([{ field: 'body', problems: ['must be a JSON object'] }]);
    }
    // Before class-transformer and class-validator, which recurse: depth, reserved keys, NUL characters.
    if (metadata.type === 'body' || metadata.type === 'query') {
      const problem = inputProblem(value);
      if (problem) throw validationFailed([{ field: problem.field, problems: [problem.problem] }]);
    }
    if (
      metadata.type === 'query' &&
      metadata.metatype &&
      this.toValidate(metadata) &&
      (value === undefined || value === null)
    )
      value = {};
    return super.transform(value, metadata);
  }
}
