"""held envelopes: messages that arrived before their predecessor

Revision ID: 5b8d2e7f1c39
Revises: b3ef9f010ee8
Create Date: 2026-12-02 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b8d2e7f1c39'
down_revision = 'b3ef9f010ee8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('held_envelopes',
    sa.Column('msg_id', sa.String(length=36), nullable=False),
    sa.Column('sender', sa.String(length=40), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=False),
    sa.Column('waits_for', sa.String(length=36), nullable=False),
    sa.Column('envelope', sa.LargeBinary(), nullable=False),
    sa.Column('blob_ids', sa.String(length=2000), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('msg_id', name=op.f('pk_held_envelopes'))
    )
    with op.batch_alter_table('held_envelopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_held_envelopes_waits_for'), ['waits_for'], unique=False)


def downgrade():
    with op.batch_alter_table('held_envelopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_held_envelopes_waits_for'))
    op.drop_table('held_envelopes')
