"""api refresh tokens and personal tokens

Revision ID: 5d2c8e41b7a3
Revises: c4a7e2f91b3d
Create Date: 2026-12-02 13:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2c8e41b7a3'
down_revision = 'c4a7e2f91b3d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_refresh_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['user_sessions.id'], name=op.f('fk_api_refresh_tokens_session_id_user_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_refresh_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_refresh_tokens_token_hash'))
    )
    with op.batch_alter_table('api_refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_refresh_tokens_session_id'), ['session_id'], unique=False)

    op.create_table('api_personal_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('user_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_personal_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_personal_tokens')),
    sa.UniqueConstraint('public_id', name=op.f('uq_api_personal_tokens_public_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_personal_tokens_token_hash'))
    )
    with op.batch_alter_table('api_personal_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_personal_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_personal_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_personal_tokens_user_id'))
    op.drop_table('api_personal_tokens')
    with op.batch_alter_table('api_refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_refresh_tokens_session_id'))
    op.drop_table('api_refresh_tokens')
