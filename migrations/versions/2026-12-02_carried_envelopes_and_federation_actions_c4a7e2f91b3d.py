"""carried envelopes and federation actions

Revision ID: c4a7e2f91b3d
Revises: 5b8d2e7f1c39
Create Date: 2026-12-02 13:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7e2f91b3d'
down_revision = '5b8d2e7f1c39'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('carried_envelopes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('msg_id', sa.String(length=36), nullable=False),
    sa.Column('envelope', sa.LargeBinary(), nullable=False),
    sa.Column('envelope_sha256', sa.String(length=64), nullable=False),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_carried_envelopes_actor_id_users')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox_messages.id'], name=op.f('fk_carried_envelopes_outbox_id_outbox_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carried_envelopes'))
    )
    with op.batch_alter_table('carried_envelopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carried_envelopes_msg_id'), ['msg_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carried_envelopes_outbox_id'), ['outbox_id'], unique=False)

    op.create_table('federation_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('authority_code', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.String(length=120), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('receipt', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_federation_actions_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_actions')),
    sa.UniqueConstraint('public_id', name=op.f('uq_federation_actions_public_id'))
    )
    with op.batch_alter_table('federation_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_actions_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('federation_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_federation_actions_at'))

    op.drop_table('federation_actions')
    with op.batch_alter_table('carried_envelopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carried_envelopes_outbox_id'))
        batch_op.drop_index(batch_op.f('ix_carried_envelopes_msg_id'))

    op.drop_table('carried_envelopes')
