from rest_framework import serializers

from notify.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    # Empty for a staff alert on the log channel, which is no email.
    email = serializers.CharField(read_only=True, help_text="The address emailed; empty on the log channel.")

    class Meta:
        model = Notification
        fields = [
            "id",
            "user_id",
            "email",
            "channel",
            "kind",
            "subject",
            "status",
            "error",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields
