import { ConfigurableModuleBuilder } from '@nestjs/common';
import { FeatureFlagsModuleOptions } from './interfaces/feature-flags-module-options.interface';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: FEATURE_FLAGS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<FeatureFlagsModuleOptions>({ moduleName: 'FeatureFlags' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
