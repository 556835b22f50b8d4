import type * as TypeOrm from 'typeorm';
import { loadOptionalPeer } from '../optional-peers';

/**
 * TypeORM's entity decorators when typeorm is installed; otherwise decorators that do nothing, so that
 * the entities are plain record classes (the memory and Redis backends use them) and requiring the
 * library does not need typeorm.
 */
const typeorm = loadOptionalPeer<typeof TypeOrm>('typeorm');
const inert = (() => () => undefined) as never;

export const Column: typeof TypeOrm.Column = typeorm?.Column ?? inert;
export const CreateDateColumn: typeof TypeOrm.CreateDateColumn = typeorm?.CreateDateColumn ?? inert;
export const Entity: typeof TypeOrm.Entity = typeorm?.Entity ?? inert;
export const Index: typeof TypeOrm.Index = typeorm?.Index ?? inert;
export const JoinColumn: typeof TypeOrm.JoinColumn = typeorm?.JoinColumn ?? inert;
export const ManyToOne: typeof TypeOrm.ManyToOne = typeorm?.ManyToOne ?? inert;
export const OneToMany: typeof TypeOrm.OneToMany = typeorm?.OneToMany ?? inert;
export const PrimaryColumn: typeof TypeOrm.PrimaryColumn = typeorm?.PrimaryColumn ?? inert;
export const PrimaryGeneratedColumn: typeof TypeOrm.PrimaryGeneratedColumn = typeorm?.PrimaryGeneratedColumn ?? inert;
export const UpdateDateColumn: typeof TypeOrm.UpdateDateColumn = typeorm?.UpdateDateColumn ?? inert;
